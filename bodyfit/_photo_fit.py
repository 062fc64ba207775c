"""Body, pose and cameras from one or two photos and the stature.

Stage A (fast proxy, no rendering, ~15 ms a step): Adam on the camera, the pose and then the
shape, against the MediaPipe keypoints and a two-sided point-to-mask silhouette proxy (projected
vertices outside the mask are pulled in by its distance transform; mask contour points pull
their nearest projected vertex out, the pairing refreshed every few steps), on a vertex subset.
Then the population prior: the shape prior becomes the ANSUR-typical shape
(``body_from_measurements``) for the stature and the mass (given, else the fitted one), and
stage A goes on for half as many steps. Stage B: the same variables refined against Mitsuba's
differentiable silhouette (``render.render_silhouette``) of the full mesh at 192 x 192 crops,
stopping once the IoU plateaus. The shape is shared by the views; pose and camera are per view.
The stature is a hard prior (and the mass when given).

Shapes are evaluated through a linearisation of anny's (piecewise linear) shape sliders (mass
included) that is refreshed every few dozen steps, which keeps a step to a few milliseconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from tryon3d.bodyfit._anny_model import DEFAULT_AGE_YEARS, load_anny_model
from tryon3d.bodyfit._anny_pose import anny_torch, pose_rig
from tryon3d.bodyfit._body import Body
from tryon3d.bodyfit._photo import Photo, PhotoAnalysis, analyze_photo, load_photo

__all__ = ["PhotoFit", "fit_body_to_photos"]

VIEWS = ("front", "side")
_CROP_PX = 256  # fitting resolution (square crop around the person)
_REFINE_PX = 192  # Mitsuba silhouette resolution of the refinement (same crop, fewer pixels)
_CROP_MARGIN = 0.08
_PAIRING_EVERY = 4  # stage A steps between contour-to-vertex re-pairings
_PLATEAU_IOU = 0.001  # stage B stops after _PLATEAU_STEPS steps without this much IoU gain
_PLATEAU_STEPS = 4
_REFINE_MIN_STEPS = 12
_MASS_CORRECTION = 1.05  # fitted mesh mass -> mass estimate for the population prior
_REFINE_PRIOR_FRACTION = 0.25  # the population prior's pull in stage B, relative to stage A's
_FOCAL_PRIOR = 1.6  # focal length prior, times the photo's long side (about a 36 mm-equivalent lens)
# (group bone, pose prior weight)
_POSE_BONES = {
    "spine03": 4.0, "neck01": 2.0,
    "upperarm01.L": 0.2, "upperarm01.R": 0.2, "lowerarm01.L": 0.4, "lowerarm01.R": 0.4,
    "upperleg01.L": 1.0, "upperleg01.R": 1.0, "lowerleg01.L": 1.0, "lowerleg01.R": 1.0,
    "foot.L": 2.0, "foot.R": 2.0,
}
# MediaPipe landmark -> (anny bone head or "vertex:<key>", weight)
_KEYPOINT_MAP = {
    0: ("vertex:nose", 0.5), 2: ("eye.L", 0.5), 5: ("eye.R", 0.5), 7: ("vertex:ear_l", 0.5),
    8: ("vertex:ear_r", 0.5), 11: ("upperarm01.L", 1.0), 12: ("upperarm01.R", 1.0),
    13: ("lowerarm01.L", 1.0), 14: ("lowerarm01.R", 1.0), 15: ("wrist.L", 1.0), 16: ("wrist.R", 1.0),
    23: ("upperleg01.L", 0.6), 24: ("upperleg01.R", 0.6), 25: ("lowerleg01.L", 1.0),
    26: ("lowerleg01.R", 1.0), 27: ("foot.L", 1.0), 28: ("foot.R", 1.0), 29: ("vertex:heel_l", 0.5),
    30: ("vertex:heel_r", 0.5), 31: ("vertex:toe_l", 0.5), 32: ("vertex:toe_r", 0.5),
}
_MIRROR = {0: 0, 2: 5, 5: 2, 7: 8, 8: 7, 11: 12, 12: 11, 13: 14, 14: 13, 15: 16, 16: 15, 23: 24, 24: 23,
           25: 26, 26: 25, 27: 28, 28: 27, 29: 30, 30: 29, 31: 32, 32: 31}


@dataclass(frozen=True, eq=False)
class PhotoFit:
    """Outcome of :func:`fit_body_to_photos`.

    Attributes:
        body: the fitted Body; ``vertices`` in the front photo's pose, ``rest_vertices`` canonical.
        cameras: per view (``front``, ``side``) the fitted ``render.Camera`` at the photo's size;
            the front camera sees ``body.vertices``; the side camera sees the body in
            ``poses["side"]``.
        poses: per view, the (J, 3) pose [rad] (``Body.pose`` convention).
        silhouettes: per view, the fitted body's silhouette, shape (H, W) bool, photo size.
        overlays: per view, a diagnostic picture, shape (h, w, 3) uint8 (analysis size): the
            MediaPipe mask (blue), keypoints (red) and the fitted outline (green) over a grey
            background, or over the dimmed photo when asked for.
        analyses: per view, the MediaPipe analysis.
        scores: ``iou_<view>`` (fitted vs MediaPipe mask), ``keypoint_rms_px_<view>``.
        seconds: wall time of the fit [s].
    """

    body: Body
    cameras: dict
    poses: dict[str, np.ndarray]
    silhouettes: dict[str, np.ndarray]
    overlays: dict[str, np.ndarray]
    analyses: dict[str, PhotoAnalysis]
    scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _template_points(model) -> dict[str, int]:
    """Vertex indices of surface landmarks on the anny template (nose, ears, heels, toes)."""
    vertices = model.vertex_template.reshape(-1, 3)
    regions = model.vertex_regions
    from tryon3d.bodyfit._body import REGION_NAMES

    def region(name):
        return np.flatnonzero(regions == REGION_NAMES.index(name))

    head = region("head")
    eye_z = model.joint_template.reshape(-1, 3)[model.joint_names.index("eye.L"), 2]
    points = {"nose": int(head[np.argmin(vertices[head, 1])])}
    band = head[np.abs(vertices[head, 2] - (eye_z - 0.02)) < 0.03]
    points["ear_l"] = int(band[np.argmax(vertices[band, 0])])
    points["ear_r"] = int(band[np.argmin(vertices[band, 0])])
    for side, name in (("l", "foot_left"), ("r", "foot_right")):
        foot = region(name)
        low = foot[vertices[foot, 2] < vertices[foot, 2].min() + 0.04]
        points[f"heel_{side}"] = int(low[np.argmax(vertices[low, 1])])
        points[f"toe_{side}"] = int(low[np.argmin(vertices[low, 1])])
    return points


def _rotation_matrix(omega):
    from tryon3d.bodyfit._anny_pose import axis_angle_to_matrix

    return axis_angle_to_matrix(omega)


@dataclass
class _View:
    """Per-view fitting data in crop pixels."""

    name: str
    analysis: PhotoAnalysis
    crop_origin: np.ndarray  # (2,) analysis px of the crop's top-left corner
    crop_scale: float  # crop px per analysis px
    keypoints: object  # torch (33, 2) crop px
    weights: object  # torch (33,)
    target: object  # torch (R, R) float mask in crop
    outside_distance: object  # torch (1, 1, R, R) distance to the mask [crop px]
    contour: object  # torch (N, 2) contour samples [crop px]
    person_px: float
    rotation0: np.ndarray
    focal0: float
    mirrored: bool = False


def _crop_view(name: str, analysis: PhotoAnalysis, sex: str) -> _View:
    import torch
    from PIL import Image
    from scipy import ndimage

    mask = analysis.mask
    binary = mask > 0.5
    rows, cols = np.flatnonzero(binary.any(axis=1)), np.flatnonzero(binary.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    side = max(bottom - top, right - left) * (1.0 + 2.0 * _CROP_MARGIN)
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    origin = centre - side / 2.0
    scale = _CROP_PX / side
    height, width = mask.shape
    # Crop (with padding) and resample the soft mask to R x R.
    box = (origin[0], origin[1], origin[0] + side, origin[1] + side)
    image = Image.fromarray((np.clip(mask, 0, 1) * 255).astype(np.uint8))
    crop = np.asarray(image.transform((_CROP_PX, _CROP_PX), Image.Transform.EXTENT, box, Image.Resampling.BILINEAR,
                                      fillcolor=0), dtype=np.float32) / 255.0
    inside = crop > 0.5
    outside_distance = ndimage.distance_transform_edt(~inside).astype(np.float32)
    edge = inside & ~ndimage.binary_erosion(inside)
    v_idx, u_idx = np.nonzero(edge)
    contour = np.stack([u_idx + 0.5, v_idx + 0.5], axis=1)
    if len(contour) > 600:
        contour = contour[np.linspace(0, len(contour) - 1, 600).astype(int)]
    keypoints = (analysis.keypoints - origin) * scale
    weights = np.where(analysis.visibility > 0.5, analysis.visibility, 0.0)
    if name == "front":
        rotation0 = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    else:
        # Facing direction in the image from the nose relative to the ears (then toes vs heels).
        k = analysis.keypoints
        facing = k[0, 0] - 0.5 * (k[7, 0] + k[8, 0])
        if abs(facing) < 2.0:
            facing = 0.5 * (k[31, 0] + k[32, 0]) - 0.5 * (k[29, 0] + k[30, 0])
        if facing > 0:  # faces image right: camera on the body's right (-x), looking +x
            rotation0 = np.array([[0, -1.0, 0], [0, 0, -1.0], [1.0, 0, 0]])
        else:
            rotation0 = np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]])
    focal0 = _FOCAL_PRIOR * max(analysis.size) * scale
    return _View(
        name=name, analysis=analysis, crop_origin=origin, crop_scale=scale,
        keypoints=torch.as_tensor(keypoints, dtype=torch.float32),
        weights=torch.as_tensor(weights, dtype=torch.float32),
        target=torch.as_tensor(crop),
        outside_distance=torch.as_tensor(outside_distance)[None, None],
        contour=torch.as_tensor(contour, dtype=torch.float32),
        person_px=float((bottom - top) * scale),
        rotation0=rotation0,
        focal0=float(focal0),
        mirrored=name != "front",
    )


class _Shape:
    """Rest vertices/joints as a linear function of the shape sliders, refreshed on demand."""

    def __init__(self, model, parameters: np.ndarray, *, sex: str, age_years: float):
        self.model, self.sex, self.age = model, sex, age_years
        self.lower, self.upper = model.parameter_bounds[:, 0], model.parameter_bounds[:, 1]
        self.relinearise(parameters)

    def relinearise(self, parameters: np.ndarray) -> None:
        import torch

        from tryon3d.bodyfit._fit import body_mass_kg

        parameters = np.clip(parameters, self.lower, self.upper)
        count = len(parameters)
        steps = np.where(parameters + 0.02 <= self.upper, 0.02, -0.02)
        batch = np.concatenate([parameters[None], parameters[None] + np.diag(steps)])
        vertices, joints = self.model.rest_geometry(batch, sex=self.sex, age_years=self.age)
        masses = body_mass_kg(vertices, self.model.faces, sex=self.sex)
        self.origin = parameters.copy()
        self.origin_t = torch.as_tensor(parameters)
        self.v0 = torch.as_tensor(vertices[0], dtype=torch.float32)
        self.j0 = torch.as_tensor(joints[0], dtype=torch.float32)
        self.vb = torch.as_tensor((vertices[1:] - vertices[0]) / steps[:, None, None], dtype=torch.float32)
        self.jb = torch.as_tensor((joints[1:] - joints[0]) / steps[:, None, None], dtype=torch.float32)
        # Stature from the current top and bottom vertices; mass linearised too.
        self.ends = np.array([np.argmax(vertices[0, :, 2]), np.argmin(vertices[0, :, 2])])
        self.mass0 = float(masses[0])
        self.mass_slope = torch.as_tensor((masses[1:] - masses[0]) / steps, dtype=torch.float32)
        self.count = count
        self._subset_key = None

    def _subset(self, subset: np.ndarray):
        """Cached slices of the linearisation for a vertex subset (plus the two stature ends)."""
        if self._subset_key is not subset:
            rows = np.concatenate([subset, self.ends])
            self._sub = (self.v0[rows], self.vb[:, rows])
            self._subset_key = subset
        return self._sub

    def __call__(self, parameters, stature: float | None = None, *, subset: np.ndarray | None = None):
        """Rest vertices (V, 3) (or the (N, 3) ``subset``) and joints (J, 3); scaled about the
        floor to ``stature`` [m] when given (the fit's hard height constraint), plus the
        unscaled stature and the body mass [kg] (linearised)."""
        import torch

        delta = (parameters - self.origin_t).to(torch.float32)
        if subset is None:
            v0, vb = self.v0, self.vb
        else:
            v0, vb = self._subset(subset)
        vertices = v0 + torch.einsum("k,kvd->vd", delta, vb)
        joints = self.j0 + torch.einsum("k,kjd->jd", delta, self.jb)
        if subset is None:
            own = vertices[:, 2].max() - vertices[:, 2].min()
        else:
            own = vertices[-2, 2] - vertices[-1, 2]
            vertices = vertices[:-2]
        mass = self.mass0 + (self.mass_slope * delta).sum()
        if stature is not None:
            scale = stature / own
            vertices, joints, mass = vertices * scale, joints * scale, mass * scale**3
        return vertices, joints, own, mass


class _Fitter:
    def __init__(self, views: list[_View], *, height_m: float, weight_kg: float | None, sex: str, age_years: float):
        import torch

        self.model = model = load_anny_model()
        self.torch_model = anny_torch(model, "float32")
        self.rig = pose_rig(self.torch_model, tuple(_POSE_BONES))
        self.views = views
        self._pairing: dict = {}
        self.prior_weight_b = 0.3
        self.shape_lr = 0.08
        self.proxy_weight = 40.0
        self.height, self.weight, self.sex, self.age = height_m, weight_kg, sex, age_years
        bmi = weight_kg / height_m**2 if weight_kg else (24.0 if sex == "male" else 23.0)
        # The generic guess, not the table of measurement fits: those local girth changes were
        # fitted to population girths, which would bias a fit to what the photo shows.
        start = model.initial_parameters(height_m=height_m, bmi=bmi)
        self.shape = _Shape(model, start, sex=sex, age_years=age_years)
        self.start = torch.as_tensor(start)
        self.params = torch.tensor(start, requires_grad=True)
        points = _template_points(model)
        names = model.joint_names
        self.kp_index = np.array(sorted(_KEYPOINT_MAP))
        self.kp_weight = torch.tensor([_KEYPOINT_MAP[i][1] for i in self.kp_index], dtype=torch.float32)
        self.kp_is_vertex = np.array([_KEYPOINT_MAP[i][0].startswith("vertex:") for i in self.kp_index])
        self.kp_source = np.array([
            points[_KEYPOINT_MAP[i][0][7:]] if _KEYPOINT_MAP[i][0].startswith("vertex:") else names.index(_KEYPOINT_MAP[i][0])
            for i in self.kp_index
        ])
        self.kp_mirror = np.array([list(self.kp_index).index(_MIRROR[i]) for i in self.kp_index])
        rng = np.random.default_rng(0)
        vertex_count = len(model.vertex_template) // 3
        subset = rng.choice(vertex_count, size=3000, replace=False)
        self.subset = np.unique(np.concatenate([subset, self.kp_source[self.kp_is_vertex]]))
        self.kp_subset_index = np.searchsorted(self.subset, self.kp_source)
        group_prior = [0.0] + [_POSE_BONES[names[b]] for b in self.rig.bones[1:]]
        self.pose_prior = torch.tensor(group_prior, dtype=torch.float32)
        # Per-view variables: pose (G, 3), camera rotation (3), translation (3), log focal ().
        self.pose, self.omega, self.trans, self.log_focal = [], [], [], []
        for view in views:
            self.pose.append(torch.zeros((len(self.rig.bones), 3), requires_grad=True))
            self.omega.append(torch.zeros(3, requires_grad=True))
            distance = view.focal0 * height_m / max(view.person_px, 1.0)
            centre_world = np.array([0.0, 0.0, 0.5 * height_m])
            u_c = float(np.mean(view.contour[:, 0].numpy()))
            v_c = _CROP_PX / 2.0
            cam_centre = np.array([(u_c - _CROP_PX / 2.0) * distance / view.focal0,
                                   (v_c - _CROP_PX / 2.0) * distance / view.focal0, distance])
            t = cam_centre - view.rotation0 @ centre_world
            self.trans.append(torch.tensor(t, dtype=torch.float32, requires_grad=True))
            self.log_focal.append(torch.zeros((), requires_grad=True))

    # --- geometry -------------------------------------------------------------------------
    def camera_points(self, index: int, points):
        import torch

        view = self.views[index]
        rotation = torch.as_tensor(view.rotation0, dtype=torch.float32) @ _rotation_matrix(self.omega[index])
        return points @ rotation.T + self.trans[index]

    def project(self, index: int, cam):
        import torch

        focal = self.views[index].focal0 * torch.exp(self.log_focal[index])
        z = cam[:, 2].clamp_min(1e-3)
        return torch.stack([focal * cam[:, 0] / z, focal * cam[:, 1] / z], dim=1) + _CROP_PX / 2.0

    def keypoint_loss(self, index, vertices_subset, joints):
        import torch

        view = self.views[index]
        points = torch.where(
            torch.as_tensor(self.kp_is_vertex)[:, None],
            vertices_subset[torch.as_tensor(self.kp_subset_index.clip(0, len(self.subset) - 1))],
            joints[torch.as_tensor(np.where(self.kp_is_vertex, 0, self.kp_source))],
        )
        uv = self.project(index, self.camera_points(index, points))
        target = view.keypoints[torch.as_tensor(self.kp_index)]
        weight = view.weights[torch.as_tensor(self.kp_index)] * self.kp_weight
        error = ((uv - target) ** 2).sum(dim=1) / view.person_px**2
        if view.mirrored:  # side views: left/right labels are unreliable, take the better pairing
            swapped = ((uv[torch.as_tensor(self.kp_mirror)] - target) ** 2).sum(dim=1) / view.person_px**2
            straight, crossed = (weight * error).sum(), (weight * swapped).sum()
            return torch.minimum(straight, crossed) / weight.sum().clamp_min(1e-6), uv
        return (weight * error).sum() / weight.sum().clamp_min(1e-6), uv

    def proxy_silhouette_loss(self, index, vertices_subset, *, refresh: bool = True):
        """Two-sided silhouette proxy; the contour-to-vertex pairing is recomputed when
        ``refresh`` (else the previous pairing is reused: it changes slowly)."""
        import torch

        view = self.views[index]
        uv = self.project(index, self.camera_points(index, vertices_subset))
        grid = (uv / _CROP_PX * 2.0 - 1.0)[None, None]
        outside = torch.nn.functional.grid_sample(view.outside_distance, grid, align_corners=False,
                                                  padding_mode="border")[0, 0, 0]
        out_term = (outside**2).mean() / view.person_px**2
        if refresh or index not in self._pairing:
            with torch.no_grad():
                self._pairing[index] = torch.cdist(view.contour, uv).argmin(dim=1)
        nearest = ((view.contour - uv[self._pairing[index]]) ** 2).sum(dim=1)
        cover_term = nearest.mean() / view.person_px**2
        return out_term + cover_term

    def priors(self, mass, own_stature, weight_shape: float):
        loss = ((own_stature - self.height) / 0.005) ** 2 * 1e-3
        if self.weight is not None:
            loss = loss + ((mass - self.weight) / 0.5) ** 2 * 1e-3
        loss = loss + weight_shape * ((self.params - self.start) ** 2).sum() * 2e-4
        for index in range(len(self.views)):
            loss = loss + 1e-3 * (self.pose_prior[:, None] * self.pose[index] ** 2).sum()
            loss = loss + 1e-2 * self.log_focal[index] ** 2
        return loss

    def clamp(self):
        import torch

        with torch.no_grad():
            lower = torch.as_tensor(self.shape.lower)
            upper = torch.as_tensor(self.shape.upper)
            self.params.copy_(torch.maximum(torch.minimum(self.params, upper), lower))
            for pose in self.pose:
                pose[0].zero_()

    # --- stages ---------------------------------------------------------------------------
    def current_mass(self) -> float:
        """Mass [kg] of the current shape at the target stature (linearised)."""
        with _no_grad():
            return float(self.shape(self.params, self.height, subset=self.subset)[3])

    def stage_a(self, steps: int, *, shape_from: int | None = None, shape_weight: float = 1.0) -> None:
        import torch

        camera_vars = self.omega + self.trans + self.log_focal
        optimizer = torch.optim.Adam([
            {"params": camera_vars, "lr": 0.01},
            {"params": self.pose, "lr": 0.03},
            {"params": [self.params], "lr": 0.0},
        ])
        shape_from = steps // 5 if shape_from is None else shape_from
        for step in range(steps):
            if step >= shape_from:
                progress = (step - shape_from) / max(1, steps - shape_from)
                optimizer.param_groups[2]["lr"] = self.shape_lr * (1.0 - 0.8 * progress)
            if step and step % 40 == 0:
                self.shape.relinearise(self.params.detach().numpy())
            optimizer.zero_grad()
            rest_v, rest_j, own, mass = self.shape(self.params, self.height, subset=self.subset)
            loss = self.priors(mass, own, shape_weight)
            for index in range(len(self.views)):
                vertices, joints = self.rig.posed(rest_v, rest_j, self.pose[index],
                                                  vertex_ids=self.subset)
                kp, _ = self.keypoint_loss(index, vertices, joints)
                loss = loss + kp
                if step >= shape_from // 2:
                    loss = loss + self.proxy_weight * self.proxy_silhouette_loss(
                        index, vertices, refresh=step % _PAIRING_EVERY == 0)
            loss.backward()
            optimizer.step()
            self.clamp()

    def reference_camera(self, index: int):
        """The current camera of view ``index`` as a ``core.Camera`` in crop pixels."""
        from tryon3d.core import Camera

        view = self.views[index]
        with _no_grad():
            rotation = view.rotation0 @ _rotation_matrix(self.omega[index].detach()).numpy().astype(np.float64)
            matrix = np.eye(4)
            matrix[:3, :3] = rotation
            matrix[:3, 3] = self.trans[index].detach().numpy()
            focal = view.focal0 * math.exp(float(self.log_focal[index]))
        u, s, vt = np.linalg.svd(matrix[:3, :3])
        matrix[:3, :3] = u @ vt
        return Camera(fx=focal, fy=focal, cx=_CROP_PX / 2.0, cy=_CROP_PX / 2.0, width=_CROP_PX,
                      height=_CROP_PX, world_to_camera=matrix)

    def stage_b(self, steps: int, *, resolution: int = _REFINE_PX) -> None:
        """Refine against Mitsuba's differentiable silhouette at ``resolution`` px crops; stops
        early when the soft IoU of every view has stopped improving."""
        import torch

        from tryon3d.core import Camera
        from tryon3d.render import render_silhouette

        faces = self.model.faces
        optimizer = torch.optim.Adam([
            {"params": self.omega + self.trans + self.log_focal, "lr": 0.003},
            {"params": self.pose, "lr": 0.01},
            {"params": [self.params], "lr": 0.015},
        ])
        factor = resolution / _CROP_PX
        targets = [
            torch.nn.functional.interpolate(view.target[None, None], size=(resolution, resolution), mode="area")[0, 0]
            if resolution != _CROP_PX else view.target
            for view in self.views
        ]
        self.shape.relinearise(self.params.detach().numpy())
        references: list = []
        best, stale = -1.0, 0
        self.refine_history: list[float] = []
        for step in range(steps):
            if step and step % 20 == 0:
                self.shape.relinearise(self.params.detach().numpy())
            if step % 10 == 0:
                references = []
                for i in range(len(self.views)):
                    crop = self.reference_camera(i)
                    references.append(Camera(
                        fx=crop.fx * factor, fy=crop.fy * factor, cx=crop.cx * factor, cy=crop.cy * factor,
                        width=resolution, height=resolution, world_to_camera=crop.world_to_camera))
            optimizer.zero_grad()
            rest_v, rest_j, own, mass = self.shape(self.params, self.height)
            loss = self.priors(mass, own, self.prior_weight_b)
            ious = []
            for index, view in enumerate(self.views):
                vertices, joints = self.rig.posed(rest_v, rest_j, self.pose[index])
                kp, _ = self.keypoint_loss(index, vertices[self.subset], joints)
                cam = self.camera_points(index, vertices)
                reference = references[index]
                scale = view.focal0 * torch.exp(self.log_focal[index]) * factor / reference.fx
                cam = torch.cat([cam[:, :2] * scale, cam[:, 2:]], dim=1)
                rotation = torch.tensor(reference.world_to_camera[:3, :3], dtype=torch.float32)
                shift = torch.tensor(reference.world_to_camera[:3, 3], dtype=torch.float32)
                world = (cam - shift) @ rotation
                image = render_silhouette(world, faces, reference, spp=4, seed=step * 7 + index)
                target = targets[index]
                silhouette = ((image - target) ** 2).mean()
                with torch.no_grad():
                    ious.append(float((image * target).sum() / (image + target - image * target).sum().clamp_min(1e-6)))
                loss = loss + 0.3 * kp + 20.0 * silhouette
            loss.backward()
            optimizer.step()
            self.clamp()
            score = min(ious)
            self.refine_history.append(score)
            if score > best + _PLATEAU_IOU or step < _REFINE_MIN_STEPS:
                best, stale = max(best, score), 0
            else:
                stale += 1
                if stale >= _PLATEAU_STEPS:
                    break
        self.refine_steps_done = step + 1 if steps else 0


class _single_thread:
    """Run torch on one thread inside (restored on exit): stage A is thousands of tiny ops, for
    which a second thread gains nothing and costs a lot when the other core is busy."""

    def __enter__(self):
        import torch

        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *args):
        import torch

        torch.set_num_threads(self._threads)


class _no_grad:
    def __enter__(self):
        import torch

        self._context = torch.no_grad()
        self._context.__enter__()

    def __exit__(self, *args):
        self._context.__exit__(*args)


def _photo_camera(fitter: _Fitter, index: int, floor_shift: float):
    """The fitted camera of view ``index`` at the photo's size, for the floor-shifted body."""
    from tryon3d.core import Camera

    view = fitter.views[index]
    crop = fitter.reference_camera(index)
    scale = view.analysis.scale
    factor = view.crop_scale * scale
    focal = crop.fx / factor
    centre = (_CROP_PX / (2.0 * view.crop_scale) + view.crop_origin) / scale
    matrix = np.array(crop.world_to_camera, copy=True)
    matrix[:3, 3] = matrix[:3, 3] + matrix[:3, :3] @ np.array([0.0, 0.0, floor_shift])
    width, height = view.analysis.photo_size
    return Camera(fx=focal, fy=focal, cx=float(centre[0]), cy=float(centre[1]), width=width, height=height,
                  world_to_camera=matrix)


def render_body_silhouette(vertices: np.ndarray, faces: np.ndarray, camera, *, max_pixels: int = 4_200_000) -> np.ndarray:
    """Binary silhouette (H, W) bool of a mesh seen by ``camera`` (Mitsuba, coverage > 0.5).

    Images above ``max_pixels`` are rendered smaller and scaled up.
    """
    import torch
    from PIL import Image

    from tryon3d.core import Camera
    from tryon3d.render import render_silhouette

    width, height = camera.width, camera.height
    factor = min(1.0, math.sqrt(max_pixels / (width * height)))
    small = camera
    if factor < 1.0:
        w, h = max(1, round(width * factor)), max(1, round(height * factor))
        small = Camera(fx=camera.fx * factor, fy=camera.fx * factor, cx=camera.cx * factor, cy=camera.cy * factor,
                       width=w, height=h, world_to_camera=camera.world_to_camera)
    with torch.no_grad():
        coverage = render_silhouette(torch.as_tensor(vertices, dtype=torch.float32), faces, small, spp=4).numpy()
    if small is not camera:
        image = Image.fromarray(np.clip(coverage * 255, 0, 255).astype(np.uint8))
        coverage = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255.0
    return coverage > 0.5


_SKELETON = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25),
             (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32))


def make_overlay(analysis: PhotoAnalysis, silhouette: np.ndarray, photo: Photo | None = None) -> np.ndarray:
    """Diagnostic picture (h, w, 3) uint8 at the analysis size: mask blue, keypoints red, fitted
    outline green; over a grey background, or over the dimmed photo when ``photo`` is given."""
    from PIL import Image, ImageDraw
    from scipy import ndimage

    width, height = analysis.size
    if photo is not None:
        base = np.asarray(Image.fromarray(photo.pixels).resize((width, height), Image.Resampling.BILINEAR), np.float32)
        base = 0.55 * base
    else:
        base = np.full((height, width, 3), 40.0, np.float32)
    mask = np.clip(analysis.mask, 0, 1)[:, :, None]
    base = base * (1 - 0.45 * mask) + 0.45 * mask * np.array([60.0, 110.0, 255.0])
    fitted = np.asarray(Image.fromarray(silhouette.astype(np.uint8) * 255).resize((width, height), Image.Resampling.NEAREST)) > 127
    thickness = max(1, round(max(width, height) / 400))
    outline = fitted & ~ndimage.binary_erosion(fitted, iterations=thickness)
    base[outline] = (40.0, 230.0, 60.0)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    points, seen = analysis.keypoints, analysis.visibility > 0.5
    for a, b in _SKELETON:
        if seen[a] and seen[b]:
            draw.line([tuple(points[a]), tuple(points[b])], fill=(255, 200, 60), width=thickness)
    radius = 2 * thickness + 1
    for index, (u, v) in enumerate(points):
        if seen[index]:
            draw.ellipse([u - radius, v - radius, u + radius, v + radius], fill=(235, 40, 40))
    return np.asarray(image)


def _match_stature(model, parameters: np.ndarray, height_m: float, *, sex: str, age: float) -> np.ndarray:
    """Adjust the ``height`` slider (secant steps) so the rest stature is ``height_m`` within 1 mm."""
    index = model.parameter_names.index("height")
    low, high = model.parameter_bounds[index]
    parameters = parameters.copy()

    def stature(value: float) -> float:
        trial = parameters.copy()
        trial[index] = value
        vertices, _ = model.rest_geometry(trial[None], sex=sex, age_years=age)
        return float(vertices[0, :, 2].max() - vertices[0, :, 2].min())

    x0, f0 = parameters[index], stature(parameters[index]) - height_m
    x1 = float(np.clip(x0 - 0.05 * np.sign(f0), low, high))
    f1 = stature(x1) - height_m
    for _ in range(6):
        if abs(f1) < 1e-3 or f1 == f0:
            break
        x0, x1, f0 = x1, float(np.clip(x1 - f1 * (x1 - x0) / (f1 - f0), low, high)), f1
        f1 = stature(x1) - height_m
    parameters[index] = x1 if abs(f1) <= abs(f0) else x0
    return parameters


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def fit_body_to_photos(
    front,
    side=None,
    *,
    height_m: float,
    weight_kg: float | None = None,
    sex: str,
    age_years: float | None = None,
    overlay_on_photo: bool = False,
    proxy_steps: int = 100,
    refine_steps: int = 20,
    population_prior_weight: float = 40.0,
) -> PhotoFit:
    """Fit anny's shape, a pose per photo and a camera per photo to a front (and side) photo.

    Args:
        front: full-body front photo: a path, encoded bytes, an (H, W[, 3|4]) uint8 array or a
            loaded ``Photo``.
        side: optional full-body side photo (either side), same forms.
        height_m: stature [m] (a hard prior: the fitted body's stature matches it within ~0.3 cm).
        weight_kg: body mass [kg], optional (a prior on the mesh mass when given).
        sex: ``"male"`` or ``"female"``.
        age_years: age [years]; 30 when omitted.
        overlay_on_photo: draw the overlays over the dimmed photo (else over grey: the photo
            does not leave the process).
        proxy_steps: Adam steps of the fast keypoint + silhouette-proxy stage (then half as
            many again under the population prior).
        refine_steps: at most this many Adam steps against Mitsuba's differentiable silhouette
            (192 x 192 crops); stops earlier once the IoU plateaus.
        population_prior_weight: pull of the shape towards the ANSUR-typical shape for the
            stature and the mass (the given one, else the fitted one) after the proxy stage;
            0 keeps the generic start as the prior.

    Returns:
        A PhotoFit.

    Raises:
        ValueError: bad numbers, unreadable/unsuitable photos (see ``analyze_photo``).
    """
    import torch

    from tryon3d.bodyfit._measurements import (
        AGE_RANGE_YEARS,
        BMI_RANGE,
        HEIGHT_RANGE_M,
        WEIGHT_RANGE_KG,
        _finite,
        body_from_measurements,
        check_sex,
        rebuild_body,
    )
    from tryon3d.bodyfit._population import load_population_model

    started = time.perf_counter()
    height_m = _finite("height", height_m, HEIGHT_RANGE_M, "cm", 100.0)
    if weight_kg is not None:
        weight_kg = _finite("weight", weight_kg, WEIGHT_RANGE_KG, "kg")
    sex = check_sex(sex)
    age = DEFAULT_AGE_YEARS if age_years is None else _finite("age", age_years, AGE_RANGE_YEARS, "years")
    photos = {"front": front if isinstance(front, Photo) else load_photo(front)}
    if side is not None:
        photos["side"] = side if isinstance(side, Photo) else load_photo(side)
    analyses = {name: analyze_photo(photo) for name, photo in photos.items()}
    views = [_crop_view(name, analysis, sex) for name, analysis in analyses.items()]
    fitter = _Fitter(views, height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age)
    with _single_thread():
        fitter.stage_a(int(proxy_steps))
    if population_prior_weight > 0:
        # Population prior: the ANSUR-typical shape for the stature and the (given or fitted) mass.
        model = fitter.model
        low, high = BMI_RANGE
        mass = weight_kg if weight_kg is not None else float(np.clip(
            fitter.current_mass() * _MASS_CORRECTION, low * height_m**2, high * height_m**2))
        typical = body_from_measurements(height_m=height_m, weight_kg=mass, sex=sex, age_years=age_years)
        fitter.start = torch.as_tensor([typical.shape_parameters[name] for name in model.parameter_names])
        with _single_thread():
            fitter.stage_a(int(proxy_steps) // 2, shape_from=0, shape_weight=population_prior_weight)
        fitter.prior_weight_b = population_prior_weight * _REFINE_PRIOR_FRACTION
    fitter.stage_b(int(refine_steps))

    model = fitter.model
    parameters = _match_stature(model, fitter.params.detach().numpy().astype(np.float64), height_m, sex=sex, age=age)
    rest_v, rest_j = model.rest_geometry(parameters[None], sex=sex, age_years=age)
    from tryon3d.bodyfit._fit import body_mass_kg

    mass = float(body_mass_kg(rest_v[0], model.faces, sex=sex))
    population = load_population_model()
    predicted = population.predict(height_m=height_m, weight_kg=weight_kg or mass, sex=sex, age_years=age_years)
    ratios = {key: float(value) for key, value in predicted.items() if key.endswith("_height_ratio")}
    poses = {view.name: fitter.rig.full_pose(fitter.pose[i].detach().numpy()) for i, view in enumerate(views)}
    body = rebuild_body(
        model="anny",
        shape_parameters=dict(zip(model.parameter_names, parameters, strict=True)),
        sex=sex,
        age_years=age,
        pose=poses["front"],
        height_ratios=ratios,
        inputs={"height_cm": height_m * 100.0, "weight_kg": weight_kg, "sex": sex, "age_years": age_years,
                "source": "photos", "views": list(photos)},
    )
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    cameras, silhouettes, overlays, scores = {}, {}, {}, {}
    for index, view in enumerate(views):
        posed, _ = pose_anny_vertices(model, body.rest_vertices, body.rest_joints, poses[view.name])
        with _no_grad():
            rest_fit, joints_fit, _, _ = fitter.shape(fitter.params, height_m)
            unshifted, _ = fitter.rig.posed(rest_fit, joints_fit, fitter.pose[index])
        floor_shift = float(unshifted[:, 2].min())
        camera = _photo_camera(fitter, index, floor_shift)
        silhouette = render_body_silhouette(posed, model.faces, camera)
        analysis = view.analysis
        small = np.asarray(
            __import__("PIL.Image", fromlist=["Image"]).fromarray(silhouette.astype(np.uint8) * 255).resize(
                analysis.size, 0)) > 127
        scores[f"iou_{view.name}"] = _iou(small, analysis.mask > 0.5)
        cameras[view.name] = camera
        silhouettes[view.name] = silhouette
        overlays[view.name] = make_overlay(analysis, silhouette, photos[view.name] if overlay_on_photo else None)
    return PhotoFit(
        body=body, cameras=cameras, poses=poses, silhouettes=silhouettes, overlays=overlays,
        analyses=analyses, scores=scores, seconds=time.perf_counter() - started,
    )
