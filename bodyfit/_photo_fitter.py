"""The photo fitter: anny shape and pose against keypoints and silhouettes."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from tryon3d.bodyfit._anny_model import AnnyModel, load_anny_model
from tryon3d.bodyfit._anny_pose import anny_torch, pose_rig
from tryon3d.bodyfit._body import Sex
from tryon3d.bodyfit._photo import MIRRORED_LANDMARKS
from tryon3d.bodyfit._photo_readings import _ANKLES, _HIPS, _SHOULDERS
from tryon3d.bodyfit._photo_views import _CROP_PX, _View

# Refinement silhouettes at the final resolution: 192 px at 2 spp after the coarse steps of
# _Schedule. 1 spp at 160 px for the whole refinement raised the chest or waist MAE of
# benchmarks/photo_fit.py up to 0.8 cm (gate: 0.2 cm); 10 coarse steps then 6 at 2x192 kept every
# girth's MAE within 0.2 cm of the old 16 steps at 4x192 on 6 subjects; 8 then 4 on a body with
# 65 % of its triangles dropped on 8 subjects (6 then 4 raised the waist's by 0.29 cm).
_REFINE_PX = 192  # Mitsuba silhouette resolution of the refinement (same crop, fewer pixels)
_REFINE_SPP = 2  # samples per pixel of the refinement's silhouette (image and edge gradients)
_LEGACY_REFINE_SPP = 4  # before issue 19 (benchmarks/photo_fit.py --baseline)

_PAIRING_EVERY = 4  # stage A steps between contour-to-vertex re-pairings
_PLATEAU_IOU = 0.001  # stage B stops after _PLATEAU_STEPS steps without this much IoU gain
_PLATEAU_STEPS = 4
_REFINE_MIN_STEPS = 12  # before issue 19


@dataclass(frozen=True)
class _Schedule:
    """Where the photo fit spends its time; the defaults were chosen with
    ``benchmarks/photo_fit.py --baseline`` (same subjects, MAE per girth within 0.2 cm of
    ``_LEGACY_SCHEDULE``, the schedule before issue 19).

    Attributes:
        coarse_steps: first refinement steps rendered at ``coarse_spp`` x ``coarse_px`` (the
            silhouette's backward pass costs about spp x px^2; early steps move far and need
            little precision).
        coarse_px: side of the coarse steps' square crops [px].
        coarse_spp: samples per pixel of the coarse steps.
        fine_steps: the most refinement steps at the final resolution after the coarse ones
            (None: up to the fit's ``refine_steps`` in all).
        min_steps: refinement steps before the IoU plateau may stop it.
        single_thread_refine: torch on one thread in the refinement too (its tensors are small;
            a second thread competes with Dr.Jit's render threads).
        silhouette_reduction: share of the body's triangles the refinement's silhouettes drop
            (quadric decimation to a subset of the body's own vertices, ``_silhouette_mesh``):
            Mitsuba rebuilds its BVH for every view and step, in time proportional to the
            triangles, and the head, hands and feet hold most of them at sub-pixel size.
        render_threads: Dr.Jit threads during the refinement (None: as they are). One thread
            makes the silhouette gradients' scatter-adds run in a fixed order (two give
            run-to-run girth differences of up to 0.5 cm) and costs less CPU time.
    """

    coarse_steps: int = 8
    coarse_px: int = 160
    coarse_spp: int = 1
    fine_steps: int | None = 4
    min_steps: int = 10
    single_thread_refine: bool = True
    silhouette_reduction: float = 0.65
    render_threads: int | None = 1


_LEGACY_SCHEDULE = _Schedule(
    coarse_steps=0,
    fine_steps=None,
    min_steps=_REFINE_MIN_STEPS,
    single_thread_refine=False,
    silhouette_reduction=0.0,
    render_threads=1,  # the old schedule, without its run-to-run noise (see render_threads)
)
_SCHEDULE = _Schedule()

# (group bone, pose prior weight)
_POSE_BONES = {
    "spine03": 4.0,
    "neck01": 2.0,
    "upperarm01.L": 0.2,
    "upperarm01.R": 0.2,
    "lowerarm01.L": 0.4,
    "lowerarm01.R": 0.4,
    "upperleg01.L": 1.0,
    "upperleg01.R": 1.0,
    "lowerleg01.L": 1.0,
    "lowerleg01.R": 1.0,
    "foot.L": 2.0,
    "foot.R": 2.0,
}
# Elbows and wrists weigh three times a knee: an arm is thin, and the silhouette proxy, pairing
# contour points with their nearest vertices, drags an arm swung in front of the body or hanging
# against it into the torso (benchmarks/photo_poses.py: walking, 0.91 -> 0.99 of the skin covered).
_ARM_KEYPOINT = 3.0
# MediaPipe landmark -> (anny bone head or "vertex:<key>", weight)
_KEYPOINT_MAP = {
    0: ("vertex:nose", 0.5),
    2: ("eye.L", 0.5),
    5: ("eye.R", 0.5),
    7: ("vertex:ear_l", 0.5),
    8: ("vertex:ear_r", 0.5),
    11: ("upperarm01.L", 1.0),
    12: ("upperarm01.R", 1.0),
    13: ("lowerarm01.L", _ARM_KEYPOINT),
    14: ("lowerarm01.R", _ARM_KEYPOINT),
    15: ("wrist.L", _ARM_KEYPOINT),
    16: ("wrist.R", _ARM_KEYPOINT),
    23: ("upperleg01.L", 0.6),
    24: ("upperleg01.R", 0.6),
    25: ("lowerleg01.L", 1.0),
    26: ("lowerleg01.R", 1.0),
    27: ("foot.L", 1.0),
    28: ("foot.R", 1.0),
    29: ("vertex:heel_l", 0.5),
    30: ("vertex:heel_r", 0.5),
    31: ("vertex:toe_l", 0.5),
    32: ("vertex:toe_r", 0.5),
}


# Arm bones started from the keypoints' directions (front views): (bone, the chain's parent
# bone or None, landmark at the bone's head, landmark at its end, anny joint at its end). Legs
# start straight: crossed legs bring MediaPipe's knees and ankles together in the middle, and
# legs started there overlapped and let the hips swell to fill the outline (+9 cm).
_LIMB_CHAINS = (
    ("upperarm01.L", None, 11, 13, "lowerarm01.L"),
    ("lowerarm01.L", "upperarm01.L", 13, 15, "wrist.L"),
    ("upperarm01.R", None, 12, 14, "lowerarm01.R"),
    ("lowerarm01.R", "upperarm01.R", 14, 16, "wrist.R"),
)
# A limb is started turned in the image plane only when the rest pose misses the keypoints'
# direction by more than this [rad] (an A-pose photo starts as before), and only from segments
# at least this share of the person's height long in the image (a forearm pointing at the camera
# has no direction to read).
_LIMB_START_MIN_RAD = 0.25
#: The leg pose prior's factor in a view whose mask lost the legs. At 30 they drew together
#: under a tee whose hem the clothing ease narrowed (tests/test_photo_poses.py: her fitted
#: legs between hers, 0.846 of the silhouette inside her); at 1000 they stay at the rest
#: stance, 0.979 inside (with the shipped tables).
_LOST_LEGS_POSE_PRIOR = 1000.0
#: The weight of lost legs' stand on the torso's axis (``_Fitter._plumb_loss``). The test
#: woman's fitted silhouette, 0.942 inside her without it (her rest-stance legs swung 3-4 px
#: aside at the shins), is 0.957 inside at 1, 0.967 at 10, 0.969 at 100; her girths unchanged.
_PLUMB_WEIGHT = 10.0
#: A front view whose torso MediaPipe's 3D landmarks find turned by more than this [rad] from
#: facing the camera starts the fit turned by as much (``PhotoAnalysis.torso_yaw_rad``): from
#: facing it, Adam kept the shoulders square and the body as wide as the person seen turned,
#: and slid out of the outline (real fashion photos turned 25-55 deg: 0.81-0.94 of the fitted
#: silhouette inside the person's mask, started turned 0.91-0.96). Our renders face the camera
#: within 5 deg; MediaPipe reads a 35 deg turn as 24.
_TURN_MIN_RAD = 0.35
_LIMB_START_MIN_LENGTH = 0.05
_LIMB_START_VISIBLE = 0.3
# Leg segments judged for a pose other than the A-pose (not turned at the start: see above).
_LEG_CHAINS = (
    ("upperleg01.L", 23, 25, "lowerleg01.L"),
    ("lowerleg01.L", 25, 27, "foot.L"),
    ("upperleg01.R", 24, 26, "lowerleg01.R"),
    ("lowerleg01.R", 26, 28, "foot.R"),
)
#: Views in another pose than the A-pose (a limb off the rest pose's direction): the knee is a
#: hinge, its sideways tilt and twist weigh this many times its bend, so a leg crossed or
#: splayed turns at the hip (free, a crossed leg under a skirt kept its thigh straight and bent
#: its knee sideways by 0.57 rad; benchmarks/photo_poses.py).
_KNEE_HINGE_PRIOR = 20.0
#: ... and an arm bone's twist (its turn about its own rest direction, which the silhouette
#: hardly sees: Adam's normalised steps let it drift) weighs this much, as the spine's tilt: a
#: twisted arm turned a hanging hand's palm and spread fingers to the camera (crossed legs: 59 %
#: of the fitted pixels outside the person were hands).
_ARM_TWIST_PRIOR = 4.0
#: The bones ``_Fitter.refine_limbs`` re-aims after the girth refit.
_LIMB_BONES = frozenset(("upperarm01.L", "upperarm01.R", "lowerarm01.L", "lowerarm01.R"))
_TWIST_BONES = (
    ("upperarm01.L", "lowerarm01.L"),
    ("upperarm01.R", "lowerarm01.R"),
    ("lowerarm01.L", "wrist.L"),
    ("lowerarm01.R", "wrist.R"),
)


def _template_points(model: AnnyModel) -> dict[str, int]:
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


def _held_parameters(names: tuple[str, ...]) -> list[int]:
    """Indices of the shape sliders the photo fit does not move: the limb lengths stay the
    population prior's for the stature (and mass). A silhouette scaled to a hard stature trades
    limb length against girth: free, they moved a clothed synthetic subject's chest error from
    +3.6 to +6.2 cm (tests/test_clothed_fit.py)."""
    return [i for i, name in enumerate(names) if name.endswith(("-length-incr", "-height-incr"))]


@functools.lru_cache(maxsize=4)
def _silhouette_mesh(reduction: float) -> tuple[np.ndarray, np.ndarray]:
    """The body mesh the refinement renders: (N,) sorted anny vertex indices and (F, 3) faces
    into them.

    The closed body surface (anny's eyes and mouth parts, separate pieces inside it, left out),
    quadric-decimated by ``reduction`` of its triangles, each decimated vertex then snapped to
    the nearest original vertex: the silhouette follows any shape and pose by a gather. The
    triangles dropped go mostly from the head, hands and feet, where they are far below a
    pixel: the front silhouette's area (192 px crops, 16 spp) shrinks by 0.11 % at half of
    them, 0.23 % at 60 %, 0.49 % at 70 %.
    """
    import scipy.sparse
    from scipy.sparse.csgraph import connected_components

    model = load_anny_model()
    faces = np.asarray(model.faces, dtype=np.int64)
    vertices = model.vertex_template.reshape(-1, 3)
    count = len(vertices)
    if reduction <= 0.0:
        return np.arange(count), faces
    ring = scipy.sparse.coo_matrix(
        (np.ones(faces.size), (faces.ravel(), np.roll(faces, 1, axis=1).ravel())),
        shape=(count, count),
    )
    _, piece = connected_components(ring, directed=False)
    body = faces[piece[faces[:, 0]] == np.bincount(piece).argmax()]
    import fast_simplification

    points32, body32 = vertices.astype(np.float32), body.astype(np.int32)
    _, _, collapses = fast_simplification.simplify(
        points32, body32, target_reduction=float(reduction), return_collapses=True
    )
    points, triangles, merged_into = fast_simplification.replay_simplification(
        points32, body32, collapses
    )
    # Each decimated vertex becomes the nearest of the original vertices merged into it: one
    # per vertex, so the decimated mesh stays manifold.
    order = np.lexsort((np.linalg.norm(vertices - points[merged_into], axis=1), merged_into))
    first = np.ones(count, bool)
    first[1:] = merged_into[order][1:] != merged_into[order][:-1]
    chosen = np.empty(len(points), np.int64)
    chosen[merged_into[order][first]] = order[first]
    ids, local = np.unique(chosen[np.asarray(triangles, dtype=np.int64)], return_inverse=True)
    return ids, local.reshape(-1, 3)


class _render_threads:
    """Dr.Jit's thread pool at ``count`` threads inside (restored on exit; None: untouched)."""

    def __init__(self, count: int | None):
        self._count = count

    def __enter__(self):
        if self._count is not None:
            import drjit

            self._saved = drjit.thread_count()
            drjit.set_thread_count(self._count)

    def __exit__(self, *args):
        if self._count is not None:
            import drjit

            drjit.set_thread_count(self._saved)


def _rotation_matrix(omega):
    from tryon3d.bodyfit._anny_pose import axis_angle_to_matrix

    return axis_angle_to_matrix(omega)


class _Shape:
    """Rest vertices/joints as a linear function of the shape sliders, refreshed on demand."""

    def __init__(self, model: AnnyModel, parameters: np.ndarray, *, sex: Sex, age_years: float):
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
        self.vb = torch.as_tensor(
            (vertices[1:] - vertices[0]) / steps[:, None, None], dtype=torch.float32
        )
        self.jb = torch.as_tensor(
            (joints[1:] - joints[0]) / steps[:, None, None], dtype=torch.float32
        )
        # Stature from the current top and bottom vertices; mass linearised too.
        self.ends = np.array([np.argmax(vertices[0, :, 2]), np.argmin(vertices[0, :, 2])])
        self.mass0 = float(masses[0])
        self.mass_slope = torch.as_tensor((masses[1:] - masses[0]) / steps, dtype=torch.float32)
        self.count = count
        self._subset_key: np.ndarray | None = None

    def _subset(self, subset: np.ndarray):
        """Cached slices of the linearisation for a vertex subset (plus the two stature ends)."""
        if self._subset_key is not subset:
            rows = np.concatenate([subset, self.ends])
            self._sub = (self.v0[rows], self.vb[:, rows])
            self._subset_key = subset
        return self._sub

    def __call__(
        self, parameters, stature: float | None = None, *, subset: np.ndarray | None = None
    ):
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
    def __init__(
        self,
        views: list[_View],
        *,
        height_m: float,
        weight_kg: float | None,
        sex: Sex,
        age_years: float,
    ):
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
        self.held = torch.as_tensor(_held_parameters(model.parameter_names), dtype=torch.long)
        points = _template_points(model)
        names = model.joint_names
        self.kp_index = np.array(sorted(_KEYPOINT_MAP))
        self.kp_weight = torch.tensor(
            [_KEYPOINT_MAP[i][1] for i in self.kp_index], dtype=torch.float32
        )
        self.kp_is_vertex = np.array(
            [_KEYPOINT_MAP[i][0].startswith("vertex:") for i in self.kp_index]
        )
        self.kp_source = np.array(
            [
                points[_KEYPOINT_MAP[i][0][7:]]
                if _KEYPOINT_MAP[i][0].startswith("vertex:")
                else names.index(_KEYPOINT_MAP[i][0])
                for i in self.kp_index
            ]
        )
        self.kp_mirror = np.array(
            [list(self.kp_index).index(MIRRORED_LANDMARKS[i]) for i in self.kp_index]
        )
        rng = np.random.default_rng(0)
        vertex_count = len(model.vertex_template) // 3
        subset = rng.choice(vertex_count, size=3000, replace=False)
        self.subset = np.unique(np.concatenate([subset, self.kp_source[self.kp_is_vertex]]))
        self.kp_subset_index = np.searchsorted(self.subset, self.kp_source)
        # Index tensors and the subset's skinning weights built once, not on every step.
        self._kp_vertex_rows = torch.as_tensor(self.kp_subset_index.clip(0, len(self.subset) - 1))
        self._kp_joint_rows = torch.as_tensor(np.where(self.kp_is_vertex, 0, self.kp_source))
        self._kp_is_vertex_t = torch.as_tensor(self.kp_is_vertex)[:, None]
        self._kp_index_t = torch.as_tensor(self.kp_index)
        self._kp_mirror_t = torch.as_tensor(self.kp_mirror)
        self._ankle_rows = torch.as_tensor([list(self.kp_index).index(k) for k in _ANKLES])
        self.subset_rig = replace(self.rig, weights=self.rig.weights[self.subset])
        group_prior = [0.0] + [_POSE_BONES[names[b]] for b in self.rig.bones[1:]]
        self.pose_prior = torch.tensor(group_prior, dtype=torch.float32)
        # Legs a person mask lost have nothing to follow: they stay near the rest stance
        # (free, they splayed out to the dress's hem: benchmarks/photo_poses.py --backdrop).
        legs = torch.tensor([names[b].startswith(("upperleg", "lowerleg")) for b in self.rig.bones])
        self.view_pose_prior = [
            torch.where(legs, _LOST_LEGS_POSE_PRIOR * self.pose_prior, self.pose_prior)
            if view.legs_lost
            else self.pose_prior
            for view in views
        ]
        # Per-view variables: pose (G, 3), camera rotation (3), translation (3), log focal ().
        self.pose, self.omega, self.trans, self.log_focal = [], [], [], []
        for view in views:
            self.pose.append(torch.zeros((len(self.rig.bones), 3), requires_grad=True))
            # a front photo of a person turned away starts turned (about the vertical)
            yaw = view.analysis.torso_yaw_rad
            turn = yaw if yaw is not None and abs(yaw) > _TURN_MIN_RAD else 0.0
            turn = 0.0 if view.mirrored else turn
            self.omega.append(torch.tensor([0.0, 0.0, turn], requires_grad=True))
            distance = view.focal0 * height_m / max(view.person_px, 1.0)
            centre_world = np.array([0.0, 0.0, 0.5 * height_m])
            u_c = float(np.mean(view.contour[:, 0].numpy()))
            v_c = _CROP_PX / 2.0
            cam_centre = np.array(
                [
                    (u_c - _CROP_PX / 2.0) * distance / view.focal0,
                    (v_c - _CROP_PX / 2.0) * distance / view.focal0,
                    distance,
                ]
            )
            t = cam_centre - view.rotation0 @ centre_world
            self.trans.append(torch.tensor(t, dtype=torch.float32, requires_grad=True))
            self.log_focal.append(torch.zeros((), requires_grad=True))

        #: per view: a pose other than the A-pose (front views whose keypoints say so), its
        #: outline whole: where the person mask lost the legs, their free region is no outline
        #: for the posed refinement to follow (a longer one drifted into it: 0.93 -> 0.86 of
        #: the fitted silhouette inside the person, tests/test_photo_poses.py)
        self.posed = [False] * len(views)
        with _no_grad():
            for index, view in enumerate(views):
                if not view.mirrored:  # side views: left and right labels are unreliable
                    start, posed = self._limb_start(view)
                    self.pose[index].copy_(start)
                    self.posed[index] = posed and not view.legs_lost
        hinge = torch.zeros((len(self.rig.bones), 3))
        for b, bone in enumerate(self.rig.bones):
            if names[bone].startswith("lowerleg"):
                hinge[b, 1:] = _KNEE_HINGE_PRIOR * self.pose_prior[b]
        self.view_axis_prior = [hinge if posed else None for posed in self.posed]
        for index, view in enumerate(views):
            skin = view.posed_skin() if self.posed[index] and view.posed_skin else None
            if skin is not None and skin.any():
                _add_skin(view, skin)
        self.twist_axis = self._twist_axes()

    def _twist_axes(self):
        """(G, 3): the unit rest direction of each arm bone of ``_TWIST_BONES``, zero for the
        other groups."""
        import torch

        names = self.model.joint_names
        with _no_grad():
            _, joints, _, _ = self.shape(self.params, self.height)
        joints = joints.numpy().astype(np.float64)
        axes = np.zeros((len(self.rig.bones), 3))
        for bone, tip in _TWIST_BONES:
            direction = joints[names.index(tip)] - joints[names.index(bone)]
            axes[self.rig.bones.index(names.index(bone))] = direction / np.linalg.norm(direction)
        return torch.as_tensor(axes, dtype=torch.float32)

    def _limb_start(self, view: _View):
        """The (G, 3) pose that turns each arm bone (``_LIMB_CHAINS``) about the camera's axis
        so the rest skeleton's arms point where the view's keypoints do (MediaPipe's shoulders,
        elbows and wrists): Adam from the A-pose stalls with arms raised over the head or
        swinging in front of the body; and whether the view is in another pose than the A-pose
        (an arm turned, or a leg segment (``_LEG_CHAINS``) off the rest's direction by more than
        ``_LIMB_START_MIN_RAD``)."""
        import torch

        pose = torch.zeros((len(self.rig.bones), 3))
        names = self.model.joint_names
        with _no_grad():
            _, joints, _, _ = self.shape(self.params, self.height)
        joints = joints.numpy().astype(np.float64)
        axis = view.rotation0[2]  # the camera's optical axis in the world
        keypoints = view.keypoints.numpy().astype(np.float64)
        # low-visibility landmarks still point the way (a wrist on the head: 0.4); the
        # keypoint loss then leaves them out
        visible = view.analysis.visibility > _LIMB_START_VISIBLE
        turned: dict[str, float] = {}
        for bone, parent, start, end, tip in _LIMB_CHAINS:
            angle = turned.get(parent, 0.0) if parent else 0.0
            segment = keypoints[end] - keypoints[start]
            if not (visible[start] and visible[end]):
                turned[bone] = angle
                continue
            if np.linalg.norm(segment) < _LIMB_START_MIN_LENGTH * view.person_px:
                turned[bone] = angle
                continue
            rest = view.rotation0 @ (joints[names.index(tip)] - joints[names.index(bone)])
            # the rest limb's image direction after the chain's parents turned it
            rest_angle = math.atan2(rest[1], rest[0]) + angle
            wanted = math.atan2(segment[1], segment[0])
            own = (wanted - rest_angle + math.pi) % (2.0 * math.pi) - math.pi
            if abs(own) < _LIMB_START_MIN_RAD:
                own = 0.0
            pose[self.rig.bones.index(names.index(bone))] = torch.as_tensor(
                own * axis, dtype=torch.float32
            )
            turned[bone] = angle + own
        posed = any(turned.values())
        for bone, start, end, tip in _LEG_CHAINS:
            segment = keypoints[end] - keypoints[start]
            if not (visible[start] and visible[end]) or np.linalg.norm(segment) < (
                _LIMB_START_MIN_LENGTH * view.person_px
            ):
                continue
            rest = view.rotation0 @ (joints[names.index(tip)] - joints[names.index(bone)])
            off = math.atan2(segment[1], segment[0]) - math.atan2(rest[1], rest[0])
            posed |= abs((off + math.pi) % (2.0 * math.pi) - math.pi) >= _LIMB_START_MIN_RAD
        return pose, posed

    def view_poses(self) -> dict[str, np.ndarray]:
        """Per view name its full (J, 3) ``Body.pose`` [rad] as fitted so far."""
        return {
            view.name: self.rig.full_pose(self.pose[i].detach().numpy())
            for i, view in enumerate(self.views)
        }

    # --- geometry -------------------------------------------------------------------------
    def camera_points(self, index: int, points):
        import torch

        view = self.views[index]
        rotation = torch.as_tensor(view.rotation0, dtype=torch.float32) @ _rotation_matrix(
            self.omega[index]
        )
        return points @ rotation.T + self.trans[index]

    def project(self, index: int, cam):
        import torch

        focal = self.views[index].focal0 * torch.exp(self.log_focal[index])
        z = cam[:, 2].clamp_min(1e-3)
        return torch.stack([focal * cam[:, 0] / z, focal * cam[:, 1] / z], dim=1) + _CROP_PX / 2.0

    def keypoint_loss(self, index, vertices_subset, joints, *, vertex_rows=None):
        """Keypoint loss of view ``index``; ``vertex_rows`` (K,) are the keypoints' rows in
        ``vertices_subset`` (default: rows of ``self.subset``)."""
        import torch

        view = self.views[index]
        rows = self._kp_vertex_rows if vertex_rows is None else vertex_rows
        points = torch.where(
            self._kp_is_vertex_t, vertices_subset[rows], joints[self._kp_joint_rows]
        )
        uv = self.project(index, self.camera_points(index, points))
        target = view.keypoints[self._kp_index_t]
        weight = view.weights[self._kp_index_t] * self.kp_weight
        error = ((uv - target) ** 2).sum(dim=1) / view.person_px**2
        if view.mirrored:  # side views: left/right labels are unreliable, take the better pairing
            swapped = ((uv[self._kp_mirror_t] - target) ** 2).sum(dim=1) / view.person_px**2
            straight, crossed = (weight * error).sum(), (weight * swapped).sum()
            loss = torch.minimum(straight, crossed) / weight.sum().clamp_min(1e-6)
        else:
            loss = (weight * error).sum() / weight.sum().clamp_min(1e-6)
        if view.legs_lost:  # mid-points: the same with left and right swapped
            loss = loss + self._plumb_loss(index, uv)
        return loss, uv

    def _plumb_loss(self, index: int, uv):
        """Legs a person mask lost stand on the torso's axis: the squared distance of the
        body's mid-ankle from the photo's line through its mid-shoulder and mid-hip, over the
        person's height squared, times ``_PLUMB_WEIGHT``. Nothing in the image places such
        legs; without it a roll of the torso's fit swung them (tests/test_photo_poses.py)."""
        import torch

        view = self.views[index]
        shoulder = view.keypoints[list(_SHOULDERS)].mean(dim=0)
        hip = view.keypoints[list(_HIPS)].mean(dim=0)
        axis = (hip - shoulder) / torch.linalg.norm(hip - shoulder).clamp_min(1e-6)
        off = uv[self._ankle_rows].mean(dim=0) - hip
        across = off[0] * axis[1] - off[1] * axis[0]
        return _PLUMB_WEIGHT * across**2 / view.person_px**2

    def proxy_silhouette_loss(self, index, vertices_subset, *, refresh: bool = True):
        """Two-sided silhouette proxy; the contour-to-vertex pairing is recomputed when
        ``refresh`` (else the previous pairing is reused: it changes slowly)."""
        import torch

        view = self.views[index]
        uv = self.project(index, self.camera_points(index, vertices_subset))
        grid = (uv / _CROP_PX * 2.0 - 1.0)[None, None]
        outside = torch.nn.functional.grid_sample(
            view.outside_distance, grid, align_corners=False, padding_mode="border"
        )[0, 0, 0]
        out_term = (outside**2).mean() / view.person_px**2
        if refresh or index not in self._pairing:
            # nearest projected vertex per contour point: a k-d tree, not a dense cdist + argmin
            from scipy.spatial import cKDTree

            _, nearest_ids = cKDTree(uv.detach().numpy()).query(view.contour.numpy())
            self._pairing[index] = torch.as_tensor(nearest_ids)
        nearest = ((view.contour - uv[self._pairing[index]]) ** 2).sum(dim=1)
        if view.contour_weight is not None:  # clothed contour points pull less
            nearest = nearest * view.contour_weight
        cover_term = nearest.mean() / view.person_px**2
        return out_term + cover_term

    def priors(self, mass, own_stature, weight_shape: float):
        loss = ((own_stature - self.height) / 0.005) ** 2 * 1e-3
        if self.weight is not None:
            loss = loss + ((mass - self.weight) / 0.5) ** 2 * 1e-3
        loss = loss + weight_shape * ((self.params - self.start) ** 2).sum() * 2e-4
        for index in range(len(self.views)):
            prior = self.view_pose_prior[index]
            loss = loss + 1e-3 * (prior[:, None] * self.pose[index] ** 2).sum()
            if self.view_axis_prior[index] is not None:
                loss = loss + 1e-3 * (self.view_axis_prior[index] * self.pose[index] ** 2).sum()
                twist = (self.pose[index] * self.twist_axis).sum(dim=1)
                loss = loss + 1e-3 * _ARM_TWIST_PRIOR * (twist**2).sum()
            focal_prior = 1e2 if self.views[index].focal_known else 1e-2  # EXIF: held
            loss = loss + focal_prior * self.log_focal[index] ** 2
        return loss

    def clamp(self):
        import torch

        with torch.no_grad():
            lower = torch.as_tensor(self.shape.lower)
            upper = torch.as_tensor(self.shape.upper)
            self.params.copy_(torch.maximum(torch.minimum(self.params, upper), lower))
            # limb lengths held at the prior's (see _held_parameters)
            self.params[self.held] = self.start[self.held].to(self.params.dtype)
            for pose in self.pose:
                pose[0].zero_()

    # --- stages ---------------------------------------------------------------------------
    def current_mass(self) -> float:
        """Mass [kg] of the current shape at the target stature (linearised)."""
        with _no_grad():
            return float(self.shape(self.params, self.height, subset=self.subset)[3])

    def stage_a(
        self, steps: int, *, shape_from: int | None = None, shape_weight: float = 1.0
    ) -> None:
        import torch

        camera_vars = self.omega + self.trans + self.log_focal
        optimizer = torch.optim.Adam(
            [
                {"params": camera_vars, "lr": 0.01},
                {"params": self.pose, "lr": 0.03},
                {"params": [self.params], "lr": 0.0},
            ]
        )
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
                vertices, joints = self.subset_rig.posed(rest_v, rest_j, self.pose[index])
                kp, _ = self.keypoint_loss(index, vertices, joints)
                loss = loss + kp
                if step >= shape_from // 2:
                    loss = loss + self.proxy_weight * self.proxy_silhouette_loss(
                        index, vertices, refresh=step % _PAIRING_EVERY == 0
                    )
            loss.backward()
            optimizer.step()
            self.clamp()

    def reference_camera(self, index: int):
        """The current camera of view ``index`` as a ``core.Camera`` in crop pixels."""
        from tryon3d.core import Camera

        view = self.views[index]
        with _no_grad():
            rotation = view.rotation0 @ _rotation_matrix(self.omega[index].detach()).numpy().astype(
                np.float64
            )
            matrix = np.eye(4)
            matrix[:3, :3] = rotation
            matrix[:3, 3] = self.trans[index].detach().numpy()
            focal = view.focal0 * math.exp(float(self.log_focal[index]))
        u, _s, vt = np.linalg.svd(matrix[:3, :3])
        matrix[:3, :3] = u @ vt
        return Camera(
            fx=focal,
            fy=focal,
            cx=_CROP_PX / 2.0,
            cy=_CROP_PX / 2.0,
            width=_CROP_PX,
            height=_CROP_PX,
            world_to_camera=matrix,
        )

    def _refine_targets(self, resolution: int) -> list:
        """The views' target masks at ``resolution`` px (area-averaged from the crop)."""
        import torch

        if resolution == _CROP_PX:
            return [view.target for view in self.views]
        return [
            torch.nn.functional.interpolate(
                view.target[None, None], size=(resolution, resolution), mode="area"
            )[0, 0]
            for view in self.views
        ]

    def _refine_weights(self, resolution: int) -> list:
        """The views' asymmetric-loss weights at ``resolution`` px (None for a bare outline)."""
        import torch

        return [
            view.weight
            if view.weight is None or resolution == _CROP_PX
            else torch.nn.functional.interpolate(
                view.weight[None, None], size=(resolution, resolution), mode="nearest"
            )[0, 0]
            for view in self.views
        ]

    def _refine_references(self, resolution: int) -> list:
        """The views' current cameras at ``resolution`` px: the frames the silhouettes are
        rendered in until the next refresh."""
        factor = resolution / _CROP_PX
        return [
            self.reference_camera(i).scaled(factor, resolution, resolution)
            for i in range(len(self.views))
        ]

    def stage_b(
        self,
        steps: int,
        *,
        resolution: int = _REFINE_PX,
        spp: int = _REFINE_SPP,
        schedule: _Schedule = _SCHEDULE,
    ) -> None:
        """Refine against Mitsuba's differentiable silhouette at ``resolution`` px crops and
        ``spp`` samples per pixel (the first ``schedule.coarse_steps`` steps coarser); stops
        early when the soft IoU of every view has stopped improving at the final resolution."""
        with _render_threads(schedule.render_threads):
            self._refine(steps, resolution=resolution, spp=spp, schedule=schedule)

    def refine_limbs(
        self,
        parameters: np.ndarray,
        steps: int,
        *,
        resolution: int = _REFINE_PX,
        spp: int = _REFINE_SPP,
        schedule: _Schedule = _SCHEDULE,
    ) -> None:
        """Re-aim the arms (``_LIMB_BONES``) of the views in a pose other than the A-pose
        (``posed``) at their silhouettes for the shape ``parameters`` (P,), held: after the
        girth refit gave the body other shoulders and thinner arms, the arms the outline fit
        placed no longer lie on the skin they covered. Pose only: the shape, hence every
        girth, and the cameras stay as they are. ``steps`` refinement steps at ``resolution``
        px and ``spp`` (none coarse, no early stop)."""
        import torch

        if not any(self.posed) or steps <= 0:
            return
        with _no_grad():
            self.params.copy_(torch.as_tensor(parameters, dtype=self.params.dtype))
        names = self.model.joint_names
        limbs = torch.tensor([names[b] in _LIMB_BONES for b in self.rig.bones])
        masks = [limbs[:, None] & posed for posed in self.posed]
        schedule = replace(schedule, coarse_steps=0, fine_steps=None, min_steps=steps)
        with _render_threads(schedule.render_threads):
            self._refine(steps, resolution=resolution, spp=spp, schedule=schedule, free=masks)

    def _refine(
        self,
        steps: int,
        *,
        resolution: int,
        spp: int,
        schedule: _Schedule,
        free: list | None = None,
    ) -> None:
        """The refinement loop of ``stage_b``; ``free`` (per view a (G, 1) bool tensor, or
        None): only those bones' poses move, the shape and cameras are held."""
        import torch

        from tryon3d.render import render_silhouette

        # Only the silhouette mesh's vertices and the keypoints' are shaped and posed.
        render_ids, faces = _silhouette_mesh(schedule.silhouette_reduction)
        kp_vertices = self.kp_source[self.kp_is_vertex]
        rows = np.union1d(render_ids, kp_vertices)
        render_rows = torch.as_tensor(np.searchsorted(rows, render_ids))
        kp_rows = torch.as_tensor(
            np.where(self.kp_is_vertex, np.searchsorted(rows, self.kp_source), 0)
        )
        rig = replace(self.rig, weights=self.rig.weights[rows])
        optimizer = torch.optim.Adam(
            [{"params": self.pose, "lr": 0.01}]
            if free is not None
            else [
                {"params": self.omega + self.trans + self.log_focal, "lr": 0.003},
                {"params": self.pose, "lr": 0.01},
                {"params": [self.params], "lr": 0.015},
            ]
        )
        if schedule.fine_steps is not None:
            steps = min(steps, schedule.coarse_steps + schedule.fine_steps)
        targets: dict[int, list] = {}
        weights: dict[int, list] = {}
        self.shape.relinearise(self.params.detach().numpy())
        references: list = []
        reference_px = 0
        best, stale = -1.0, 0
        self.refine_history: list[float] = []
        for step in range(steps):
            coarse = step < schedule.coarse_steps
            px, samples = (schedule.coarse_px, schedule.coarse_spp) if coarse else (resolution, spp)
            if step and step == schedule.coarse_steps:
                best, stale = -1.0, 0  # coarse IoUs are not comparable with fine ones
            if step and step % 20 == 0:
                self.shape.relinearise(self.params.detach().numpy())
            if step % 10 == 0 or px != reference_px:
                references, reference_px = self._refine_references(px), px
            if px not in targets:
                targets[px], weights[px] = self._refine_targets(px), self._refine_weights(px)
            factor = px / _CROP_PX
            optimizer.zero_grad()
            rest_v, rest_j, own, mass = self.shape(self.params, self.height, subset=rows)
            loss = self.priors(mass, own, self.prior_weight_b)
            ious = []
            for index, view in enumerate(self.views):
                vertices, joints = rig.posed(rest_v, rest_j, self.pose[index])
                kp, _ = self.keypoint_loss(index, vertices, joints, vertex_rows=kp_rows)
                cam = self.camera_points(index, vertices[render_rows])
                reference = references[index]
                scale = view.focal0 * torch.exp(self.log_focal[index]) * factor / reference.fx
                cam = torch.cat([cam[:, :2] * scale, cam[:, 2:]], dim=1)
                rotation = torch.tensor(reference.world_to_camera[:3, :3], dtype=torch.float32)
                shift = torch.tensor(reference.world_to_camera[:3, 3], dtype=torch.float32)
                world = (cam - shift) @ rotation
                image = render_silhouette(
                    world, faces, reference, spp=samples, seed=step * 7 + index
                )
                target = targets[px][index]
                silhouette = _silhouette_loss(image, target, weights[px][index])
                with torch.no_grad():
                    ious.append(
                        float(
                            (image * target).sum()
                            / (image + target - image * target).sum().clamp_min(1e-6)
                        )
                    )
                loss = loss + 0.3 * kp + 20.0 * silhouette
            loss.backward()
            if free is None:
                optimizer.step()
                self.clamp()
            else:
                for pose, mask in zip(self.pose, free, strict=True):
                    pose.grad = torch.where(mask, pose.grad, torch.zeros_like(pose.grad))
                optimizer.step()
            score = min(ious)
            self.refine_history.append(score)
            if score > best + _PLATEAU_IOU or step < schedule.min_steps or coarse:
                best, stale = max(best, score), 0
            else:
                stale += 1
                if stale >= _PLATEAU_STEPS:
                    break
        self.refine_steps_done = step + 1 if steps else 0


def _add_skin(view: _View, skin: np.ndarray) -> None:
    """Add ``skin`` (R, R) bool crop pixels to the view's target in place: filled, asked to be
    covered in full, no longer outside (its distance field)."""
    import torch
    from scipy import ndimage

    add = torch.as_tensor(skin)
    view.target = torch.where(add, torch.ones_like(view.target), view.target)
    if view.weight is not None:
        view.weight = torch.where(add, torch.ones_like(view.weight), view.weight)
    inside = view.target.numpy() > 0.5
    view.outside_distance = torch.as_tensor(
        ndimage.distance_transform_edt(~inside).astype(np.float32)
    )[None, None]


def _silhouette_loss(image, target, weight=None):
    """Mean squared coverage error of a rendered silhouette against the target, both (R, R).

    Asymmetric with ``weight`` (R, R): a target pixel the body leaves (partly) empty costs
    ``weight`` times as much (0 where the photo only bounds the body, less under clothes),
    while covering a pixel outside the target always costs in full.
    """
    import torch

    error = (image - target) ** 2
    if weight is None:
        return error.mean()
    return (torch.where(image < target, weight, torch.ones_like(weight)) * error).mean()


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
    return Camera(
        fx=focal,
        fy=focal,
        cx=float(centre[0]),
        cy=float(centre[1]),
        width=width,
        height=height,
        world_to_camera=matrix,
    )
