"""Body, pose and cameras from one or two photos and the stature.

Stage A (fast proxy, no rendering, ~15 ms a step): Adam on the camera, the pose and then the
shape, against the MediaPipe keypoints and a two-sided point-to-mask silhouette proxy (projected
vertices outside the mask are pulled in by its distance transform; mask contour points pull
their nearest projected vertex out, the pairing refreshed every few steps), on a vertex subset.
Then the population prior: the shape prior becomes the ANSUR-typical shape
(``body_from_measurements``) for the stature and the mass (given, else the fitted one), and
stage A goes on for half as many steps. Stage B: the same variables refined against Mitsuba's
differentiable silhouette (``render.render_silhouette``) of the body decimated by 65 % (mostly
the head's, hands' and feet's sub-pixel triangles), coarse to fine: 8
steps at 160 x 160 crops and 1 sample per pixel, then up to 4 at 192 x 192 and 2 samples
(``_photo_fitter._Schedule``), stopping once the IoU plateaus. The shape is shared by the views;
pose and camera are per view.
The stature is a hard prior (and the mass when given).

Poses other than the A-pose: in front views the arm bones start turned in the image plane to
the MediaPipe shoulder-elbow-wrist directions (``_Fitter._limb_start``: raised over the head,
hanging along the body, swinging), elbows and wrists weigh three times a knee, and capsules along
the seen arm landmarks that the person mask lost (an arm before a skin-coloured wall) bound the
body from outside only (``_arm_corridor``). Where the wrist went unseen with the forearm, the
forearm is looked for by colour near the elbow (``bodyfit._parsing.lost_forearm_pixels``) and
taken for skin the body must cover. A view whose limbs are off the A-pose (``_Fitter.posed``)
holds each knee to a hinge and each arm's twist near the rest's (``_KNEE_HINGE_PRIOR``,
``_ARM_TWIST_PRIOR``) and refines the silhouette for every step asked for, at full resolution
after the coarse steps; A-pose photos fit as before. ``benchmarks/photo_poses.py`` measures it.

A person mask that lost the legs (before a background of their colour: ``lost_legs``) scales
the view by the head where it is far off (``bodyfit._photo_readings``); from the crotch down,
the outline and the pixels where the legs should be only bound the body
(``_lost_legs_region``), MediaPipe's knees and feet, squeezed into what the mask kept, are
left out, and the legs are held near the rest stance; ``fit.notes`` says so. Shoes the
clothed fit's parsing finds on the mask's lowest rows (``_shoes_at_the_foot``) say it lost
nothing, whatever the head says.

Clothed photos (``clothed=True``): the person is parsed (``parse_person``); where clothes form
the outline, the target silhouette is pulled in by the ease our own drapes stand off the body
there (``bodyfit._clothed``, ``data/clothing_ease.json``), and where that ease is too uncertain
(a loose dress over the legs) the outline only bounds the body from outside. The chest, waist
and hips that body reads are then combined with the population prior for the height, sex (and
weight) as posteriors (``bodyfit._girth_posterior``: skin, fitted or loose cloth, each with its
calibrated error; a loose reading only bounds the girth), and the body is refitted from the
photo's shape to the posterior girths (``fit_shape`` started there). That refit moves weight and
muscle, which thin the arms with the torso: in a view off the A-pose the arms then get the
outline fit's upper-arm and wrist girths back by their own sliders (``_arms_as_fitted``) and are
re-aimed at the silhouette with the shape held (``_Fitter.refine_limbs``), so that they cover the
skin they showed; the chest, waist and hips stay the refit's.

Shapes are evaluated through a linearisation of anny's (piecewise linear) shape sliders (mass
included) that is refreshed every few dozen steps, which keeps a step to a few milliseconds.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tryon3d.bodyfit import _photo_fitter
from tryon3d.bodyfit._anny_model import DEFAULT_AGE_YEARS, AnnyModel
from tryon3d.bodyfit._body import Body, Sex
from tryon3d.bodyfit._girth_posterior import GIRTHS, NO_SIDE_STD_M, girth_evidence
from tryon3d.bodyfit._parsing import HAIR, PersonParsing
from tryon3d.bodyfit._photo import (
    NoPersonFound,
    Photo,
    PhotoAnalysis,
    PhotoSource,
    _iou,
    analyze_photo,
    load_photo,
)
from tryon3d.bodyfit._photo_fitter import (
    _REFINE_PX,
    _REFINE_SPP,
    _Fitter,
    _no_grad,
    _photo_camera,
)
from tryon3d.bodyfit._photo_overlay import make_overlay, render_body_silhouette
from tryon3d.bodyfit._photo_readings import (
    _EYES,
    LostLegs,
    lost_legs,
    metres_per_pixel,
    outline_over_height,
    outline_readings,
)
from tryon3d.bodyfit._photo_views import _crop_view

__all__ = ["PhotoFit", "fit_body_to_photos"]

VIEWS = ("front", "side")
_MASS_CORRECTION = 1.05  # fitted mesh mass -> mass estimate for the population prior
_REFINE_PRIOR_FRACTION = 0.25  # the population prior's pull in stage B, relative to stage A's


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
        girth_uncertainty_m: ``chest``/``waist``/``hips`` -> the posterior standard deviation
            [m] of the fitted girth (the photo's reading and the population prior combined).
        girth_sources: the same keys -> ``"photo"`` (the outline told), ``"prior"`` (clothes
            hid that region: the girth is the population prior's, within the outline) or
            ``"photo+prior"`` (both weigh in).
        outline_girths_m: the same keys -> the girths [m] of the body fitted to the outline
            (clothes shrunk by their ease), before the population prior was weighed in.
        photo_readings: what else the photos told of the body's size (clothed fits): the
            outline's readings (``bodyfit._photo_readings.outline_readings``: neck breadths,
            breadth profiles and spans [m], pose [rad]), the fitted body's neck
            ``fitted_neck_m`` [m] and mass ``fitted_mass_kg`` [kg] before the girths were
            corrected.
        posterior_girths_m: the girths [m] the photo's girth readings and the population prior
            give (``bodyfit._girth_posterior``), before the correction by ``photo_readings``
            (clothed fits; the final girths are the body's).
        clothing: per view, girth -> shares of that region's outline that are ``skin``,
            ``cloth`` and ``untelling`` (cloth too loose to tell), and ``ease_std_m`` [m];
            empty when the photos were not parsed.
        notes: plain statements about what the photo could not tell.
        parsings: per view, the photo's ``PersonParsing`` (clothed fits of photos that parsed;
            empty otherwise), for the composite to reuse rather than parse again.
    """

    body: Body
    cameras: dict
    poses: dict[str, np.ndarray]
    silhouettes: dict[str, np.ndarray]
    overlays: dict[str, np.ndarray]
    analyses: dict[str, PhotoAnalysis]
    scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    girth_uncertainty_m: dict[str, float] = field(default_factory=dict)
    girth_sources: dict[str, str] = field(default_factory=dict)
    clothing: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    parsings: dict[str, PersonParsing] = field(default_factory=dict)
    outline_girths_m: dict[str, float] = field(default_factory=dict)
    photo_readings: dict[str, float] = field(default_factory=dict)
    posterior_girths_m: dict[str, float] = field(default_factory=dict)


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


def _match_stature(
    model: AnnyModel, parameters: np.ndarray, height_m: float, *, sex: Sex, age: float
) -> np.ndarray:
    """Adjust the ``height`` slider (secant steps) so the rest stature is ``height_m`` within
    1 mm."""
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


def _int_option(name: str, value, low: int, high: int) -> int:
    """``value`` as an int in [low, high], else a one-line ValueError/TypeError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def fit_body_to_photos(
    front: Photo | PhotoSource,
    side: Photo | PhotoSource | None = None,
    *,
    height_m: float,
    weight_kg: float | None = None,
    sex: str,
    age_years: float | None = None,
    overlay_on_photo: bool = False,
    proxy_steps: int = 100,
    refine_steps: int = 20,
    population_prior_weight: float = 40.0,
    refine_px: int = _REFINE_PX,
    refine_spp: int = _REFINE_SPP,
    clothed: bool = True,
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
            (the first 8 at 160 px and 1 spp, the rest, at most 4, at ``refine_px`` and
            ``refine_spp``); stops earlier once the IoU plateaus.
        population_prior_weight: pull of the shape towards the ANSUR-typical shape for the
            stature and the mass (the given one, else the fitted one) after the proxy stage;
            0 keeps the generic start as the prior.
        refine_px: side of the refinement's final square silhouette crops [px] (32-512).
        refine_spp: samples per pixel of the refinement's final silhouettes (1-64).
        clothed: parse the photos and fit the body inside the clothes (see the module notes);
            False takes the person's outline for the body's.

    Returns:
        A PhotoFit.

    Raises:
        ValueError: bad numbers, unreadable/unsuitable photos (see ``analyze_photo``); a side
            photo in which the pose detector finds no person is left out instead (a note
            says so).
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
    refine_px = _int_option("refine_px", refine_px, 32, 512)
    refine_spp = _int_option("refine_spp", refine_spp, 1, 64)
    age = (
        DEFAULT_AGE_YEARS
        if age_years is None
        else _finite("age", age_years, AGE_RANGE_YEARS, "years")
    )
    photos = {"front": front if isinstance(front, Photo) else load_photo(front)}
    if side is not None:
        photos["side"] = side if isinstance(side, Photo) else load_photo(side)
    if not isinstance(clothed, bool):
        raise TypeError(f"clothed must be True or False, got {type(clothed).__name__}")
    analyses = {"front": analyze_photo(photos["front"])}
    side_unread = None
    if "side" in photos:
        try:
            analyses["side"] = analyze_photo(photos["side"])
        except NoPersonFound as exc:
            # the detector failed, not the shopper (a man before a striped wood panel of his
            # trousers' colour): the front alone fits, as when no side photo is given
            side_unread = f"side photo: not read ({exc}); the body is fitted to the front alone"
            del photos["side"]
    excess = outline_over_height(analyses["front"])
    if "side" in analyses and excess > 1.0:
        # the side's ankles, one behind the other, cannot tell its hair and shoes: the front's
        analyses["side"] = replace(analyses["side"], hair_and_shoes=excess)
    notes: list[str] = [
        f"{name} photo: {note}" for name, analysis in analyses.items() for note in analysis.notes
    ]
    if excess > 1.0:
        notes.append(
            f"front photo: hair and shoes stand {100 * (excess - 1.0):.1f} % over the person's "
            "height: the scale leaves them out"
            + (", the side photo's too" if "side" in analyses else "")
        )
    if side_unread:
        notes.append(side_unread)
    clothing: dict[str, dict[str, dict[str, float]]] = {}
    parsings: dict[str, PersonParsing] = {}
    lower: str | None = None
    posed_skin: dict[str, Callable[[], np.ndarray]] = {}
    bare_views: dict[str, bool] = {}  # views whose person shows skin nearly everywhere
    views = []
    for name, analysis in analyses.items():
        fitted, bound_only, cloth = analysis, None, None
        if clothed:
            # Trousers or skirt is judged on the front (a side view overlaps the legs).
            target = _clothed_view(
                photos[name],
                analysis,
                name,
                height_m,
                notes,
                lower=lower,
                parsings=parsings,
                posed_skin=posed_skin,
                bare=bare_views,
                analyses=analyses,
            )
            analysis = analyses[name]  # shoes on its lowest rows: the outline's feet seen
            if target is not None:
                lower = target.lower
                fitted = replace(analysis, mask=target.target)
                bound_only, cloth = target.bound_only, target.cloth
                clothing[name] = target.coverage
        lost = lost_legs(analysis)
        if lost is not None:
            # legs against a background of their colour: where they should be, the body may
            # lie but need not; MediaPipe's knees and feet were squeezed into what it kept
            legs = _lost_legs_region(analysis, lost, height_m)
            visibility = analysis.visibility.copy()
            visibility[list(_LOWER_BODY)] = 0.0
            fitted = replace(
                fitted,
                mask=np.where(legs, 1.0, fitted.mask).astype(np.float32),
                visibility=visibility,
            )
            bound_only = legs if bound_only is None else bound_only | legs
            hidden = f"{name} photo: the ankles are hidden"  # not by clothes: by the mask
            notes[:] = [note for note in notes if not note.startswith(hidden)]
            scale = "scaled by the head" if lost.scaled_by_head else "scaled by the outline"
            notes.append(
                f"{name} photo: the person mask lost the legs (before a background of their "
                f"colour?): it covers {100 * lost.outline_px / lost.height_px:.0f} % of the "
                f"height the head tells; {scale}, the legs fitted free of the outline from "
                "the crotch down"
            )
        corridor = _arm_corridor(analysis, height_m)
        if corridor.any():
            # an arm the person mask lost (skin before a skin-coloured wall): the body may lie
            # there, but need not fill it
            fitted = replace(fitted, mask=np.where(corridor, 1.0, fitted.mask).astype(np.float32))
            bound_only = corridor if bound_only is None else bound_only | corridor
        views.append(
            _crop_view(
                name,
                fitted,
                sex,
                focal_px=photos[name].focal_px,
                bound_only=bound_only,
                cloth=cloth,
                posed_skin=posed_skin.get(name),
            )
        )
        views[-1].legs_lost = lost is not None
    schedule = _photo_fitter._SCHEDULE
    fitter = _Fitter(views, height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age)
    if any(fitter.posed):
        # limbs off the A-pose start farther from the skin they must cover: every refinement
        # step asked for, at the final resolution after the coarse ones, no early stop
        schedule = replace(
            schedule, fine_steps=None, min_steps=max(schedule.min_steps, int(refine_steps))
        )
    elif len(bare_views) == len(views) and all(bare_views.values()):
        # a bare outline is the body and its girths are read off the fit as it stands: refined
        # at the final resolution until the IoU plateaus, not cut after a few steps (with the
        # parsing's person as the outline, see _clothed_view: the unclothed benchmark's 16
        # bodies 2.29 -> 2.02 cm, 1 s more CPU a subject)
        schedule = replace(schedule, fine_steps=None)
    with _single_thread():
        fitter.stage_a(int(proxy_steps))
    if population_prior_weight > 0:
        # Population prior: the ANSUR-typical shape for the stature and the (given or fitted) mass.
        model = fitter.model
        low, high = BMI_RANGE
        mass = (
            weight_kg
            if weight_kg is not None
            else float(
                np.clip(
                    fitter.current_mass() * _MASS_CORRECTION, low * height_m**2, high * height_m**2
                )
            )
        )
        typical = body_from_measurements(
            height_m=height_m, weight_kg=mass, sex=sex, age_years=age_years
        )
        fitter.start = torch.as_tensor(
            [typical.shape_parameters[name] for name in model.parameter_names]
        )
        with _single_thread():
            fitter.stage_a(
                int(proxy_steps) // 2, shape_from=0, shape_weight=population_prior_weight
            )
        fitter.prior_weight_b = population_prior_weight * _REFINE_PRIOR_FRACTION
    with _single_thread() if schedule.single_thread_refine else contextlib.nullcontext():
        fitter.stage_b(int(refine_steps), resolution=refine_px, spp=refine_spp, schedule=schedule)

    model = fitter.model
    parameters = _match_stature(
        model, fitter.params.detach().numpy().astype(np.float64), height_m, sex=sex, age=age
    )
    rest_v, _rest_j = model.rest_geometry(parameters[None], sex=sex, age_years=age)
    from tryon3d.bodyfit._fit import body_mass_kg

    mass = float(body_mass_kg(rest_v[0], model.faces, sex=sex))
    population = load_population_model()
    predicted = population.predict(
        height_m=height_m, weight_kg=weight_kg or mass, sex=sex, age_years=age_years
    )
    ratios = {
        key: float(value) for key, value in predicted.items() if key.endswith("_height_ratio")
    }
    poses = fitter.view_poses()
    body = rebuild_body(
        model="anny",
        shape_parameters=dict(zip(model.parameter_names, parameters, strict=True)),
        sex=sex,
        age_years=age,
        pose=poses["front"],
        height_ratios=ratios,
        inputs={
            "height_cm": height_m * 100.0,
            "weight_kg": weight_kg,
            "sex": sex,
            "age_years": age_years,
            "source": "photos",
            "views": list(photos),
        },
    )
    outline_girths = {g: float(body.measurements_m[g]) for g in GIRTHS}
    if clothed:
        posterior_of = functools.partial(
            _girth_posterior,
            body,
            clothing,
            height_m=height_m,
            weight_kg=weight_kg,
            sex=sex,
            age_years=age_years,
            side_view=len(views) > 1,
        )
        posterior = posterior_of()
        posterior_girths = dict(posterior.mean_m)
        readings = {
            **outline_readings(analyses, height_m),
            "fitted_neck_m": float(body.measurements_m["neck"]),
            "fitted_mass_kg": float(body.weight_kg),
        }
        # Where skin shows on every girth's outline the photo measures the body itself: it
        # stays as fitted (the prior's pull there only moved the bare benchmark's girths).
        evidence = girth_evidence(clothing)
        bare = set(evidence.values()) == {"skin"}
        girths, uncertainty, sources = posterior.mean_m, posterior.std_m, posterior.sources
        floor: dict[str, float] = {}  # see _unread_floor
        if not bare:
            girths, uncertainty, sources, dropped, corrected, beyond = _corrected_girths(
                posterior,
                readings,
                side_view=len(views) > 1,
                height_m=height_m,
                weight_kg=weight_kg,
                sex=sex,
                age_years=age_years,
            )
            if dropped:
                notes.append(_dropped_note(dropped, corrected=corrected or bool(beyond)))
            clothed = posterior
            if dropped and not corrected:
                # Unlike every training photo (a stride, a turn, a coat): the fitted body's
                # readings of covered girths are calibrated on none like it, and read as
                # girths they gave a slim woman in a dress a 136 cm chest (real photos);
                # the clothes' outline still bounds the body from above.
                posterior = posterior_of(bounds_only=True)
                girths, uncertainty = posterior.mean_m, posterior.std_m
                sources = posterior.sources
                # ... but no stride or raised arm widens an outline by four prior spreads:
                # such a girth is at least the edge of every training body (a plus-size
                # woman with a hand on her hat read the prior's mean, 40 cm under her outline)
                floor = {
                    g: v
                    for g, v in _unread_floor(clothed).items()
                    if g not in beyond and v > girths[g]
                }
            if beyond:
                # a body larger than every training body, in a pose they knew: the outline
                # less the clothes' ease, not a correction learnt within their range
                girths, uncertainty, sources = _posterior_for(
                    beyond, clothed, girths, uncertainty, sources
                )
                notes.append(
                    "the photo shows a body larger than every body the girth corrections were "
                    f"learnt on ({', '.join(beyond)} over {_BEYOND_Z:g} spreads above the "
                    "population's mean for the height): "
                    + ", ".join(f"{g} {100 * girths[g]:.1f} cm" for g in beyond)
                    + " are the outline's less the clothes' ease"
                )
            # a girth whose outline is skin is measured, not inferred: the correction was
            # learnt on covered girths (a bare chest above trousers went 6 cm under); skin
            # the parsing found itself, not clothes of its colour (beige trousers read as the
            # hips' skin: +24 cm where the correction had -4); one beyond every training body
            # keeps the clothed posterior's (skin would take the outline's bound below)
            own = girth_evidence(
                {
                    view: {g: _own_skin(shares) for g, shares in by_girth.items()}
                    for view, by_girth in clothing.items()
                }
            )
            skin = [
                g for g in GIRTHS if evidence[g] == "skin" and own[g] == "skin" and g not in beyond
            ]
            girths, uncertainty, sources = _posterior_for(
                skin, posterior, girths, uncertainty, sources
            )
            # ... and no covered girth is read below every body of the population for the
            # height (ANSUR II's smallest lie 2.3-3.1 spreads under its mean): a correction far
            # from its training photos extrapolates (a real street photo of a 168 cm woman,
            # arms down, read her chest at 63.7 cm, 4.1 spreads under)
            least = {
                g: posterior.prior_mean_m[g] - _BEYOND_Z * posterior.prior_std_m[g]
                for g in GIRTHS
                if g not in skin
            }
            if under := [g for g, v in least.items() if girths[g] < v]:
                girths = {g: least[g] if g in under else girths[g] for g in GIRTHS}
                notes.append(
                    "the photo read "
                    + ", ".join(under)
                    + f" below every body of the population for the height (over {_BEYOND_Z:g} "
                    "spreads under its mean): "
                    + ", ".join(f"{g} {100 * girths[g]:.1f} cm" for g in under)
                    + " are that edge"
                )
            floor = {g: v for g, v in floor.items() if g not in skin}  # skin is measured
            girths = {g: floor.get(g, girths[g]) for g in GIRTHS}
            sources = {g: "photo+prior" if g in floor else sources[g] for g in GIRTHS}
        outline_body = body
        refit = functools.partial(
            _refit_to_girths,
            outline_body,
            model=model,
            height_m=height_m,
            weight_kg=weight_kg,
            sex=sex,
            age_years=age,
            height_ratios=ratios,
        )
        body = body if bare else refit(girths)
        if floor:
            # the floor must leave the body inside the person (their pose may be what
            # widened the outline): else the pose's bound stands
            front_index = [v.name for v in views].index("front")
            mask = analyses["front"].mask > 0.5
            small = _view_silhouette(
                fitter, front_index, body, poses["front"], analyses["front"].size, height_m=height_m
            )[2]
            if (small & mask).sum() < _FLOOR_INSIDE * small.sum():
                girths, uncertainty, sources = _posterior_for(
                    floor, posterior, girths, uncertainty, sources
                )
                body = refit(girths)
            else:
                notes.append(
                    "the photo, in a pose no correction reads, shows a body far larger than "
                    f"the population's mean for the height (every girth over "
                    f"{_UNREAD_BEYOND_Z:g} spreads above it): "
                    + ", ".join(f"{g} {100 * girths[g]:.1f} cm" for g in floor)
                    + f" are at least {_BEYOND_Z:g} spreads above that mean"
                )
        if body is not outline_body and any(fitter.posed):
            # limbs off the A-pose, fitted to the skin they showed: the refit (weight, muscle)
            # thinned the arms and moved the shoulders with the torso; the arms get back the
            # photo's girths and are re-aimed (subject 1 of benchmarks/photo_poses.py, arms
            # down: skin covered 0.970 -> 0.981)
            body = _arms_as_fitted(
                body, outline_body, model=model, sex=sex, age_years=age, height_ratios=ratios
            )
            body, poses = _limbs_to_refit(body, fitter, model=model)
        notes.extend(
            _posterior_notes(
                posterior, girths, uncertainty, sources, weight_given=weight_kg is not None
            )
        )
    else:  # the outline is the body: the unclothed fit's own spread
        readings, posterior_girths = {}, {}
        spread = math.hypot(_FIT_GIRTH_STD_M, 0.0 if len(views) > 1 else NO_SIDE_STD_M)
        uncertainty = dict.fromkeys(GIRTHS, spread)
        sources = dict.fromkeys(GIRTHS, "photo")
    cameras, silhouettes, overlays, scores = {}, {}, {}, {}
    for index, view in enumerate(views):
        analysis = analyses[view.name]  # the person's own outline, not the clothed target
        camera, silhouette, small = _view_silhouette(
            fitter, index, body, poses[view.name], analysis.size, height_m=height_m
        )
        scores[f"iou_{view.name}"] = _iou(small, analysis.mask > 0.5)
        cameras[view.name] = camera
        silhouettes[view.name] = silhouette
        overlays[view.name] = make_overlay(
            analysis, silhouette, photos[view.name] if overlay_on_photo else None
        )
    return PhotoFit(
        body=body,
        cameras=cameras,
        poses=poses,
        silhouettes=silhouettes,
        overlays=overlays,
        analyses=analyses,
        scores=scores,
        seconds=time.perf_counter() - started,
        girth_uncertainty_m=uncertainty,
        girth_sources=sources,
        clothing=clothing,
        notes=tuple(notes),
        parsings=parsings,
        outline_girths_m=outline_girths,
        photo_readings=readings,
        posterior_girths_m=posterior_girths,
    )


def _view_silhouette(
    fitter: _Fitter, index: int, body: Body, pose: np.ndarray, size: tuple[int, int], *, height_m
) -> tuple[object, np.ndarray, np.ndarray]:
    """(camera, silhouette at the photo's size, silhouette at ``size`` (w, h), both (H, W) bool)
    of ``body`` in ``pose`` seen by view ``index``'s fitted camera."""
    from PIL import Image

    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    model = fitter.model
    posed, _ = pose_anny_vertices(model, body.rest_vertices, body.rest_joints, pose)
    with _no_grad():
        rest_fit, joints_fit, _, _ = fitter.shape(fitter.params, height_m)
        unshifted, _ = fitter.rig.posed(rest_fit, joints_fit, fitter.pose[index])
    camera = _photo_camera(fitter, index, float(unshifted[:, 2].min()))
    silhouette = render_body_silhouette(posed, model.faces, camera)
    small = np.asarray(Image.fromarray(silhouette.astype(np.uint8) * 255).resize(size, 0)) > 127
    return camera, silhouette, small


_LOWER_BODY = tuple(range(25, 33))  # MediaPipe's knees, ankles, heels and toes
_LOST_LEGS_REACH_M = 0.15  # how far feet may stand out of the kept legs' columns [m]
#: Shoes on this share of the person's lowest ``_FOOT_BAND`` (of its height): the outline
#: reaches the feet (on real street photos 0.60-0.93; a maxi skirt over platforms, its ankles
#: unseen and a short-haired head 12 % taller than the outline, 0.78).
_FOOT_SHOES = 0.3
_FOOT_BAND = 0.04
#: Eye line to the crotch as a share of the stature (crotch height ~0.47, eyes ~0.935).
_EYE_TO_CROTCH_STATURE = 0.46


def _lost_legs_region(analysis: PhotoAnalysis, lost: LostLegs, height_m: float) -> np.ndarray:
    """Analysis pixels where the legs a person mask lost may be, shape (h, w), bool: from the
    crotch (by the head's height below the eyes) to the feet (and 3 % of the height below),
    as wide as the mask's legs widened by ``_LOST_LEGS_REACH_M`` each side. The mask's own
    leg pixels are in it: a mask that lost the shins blurs the thighs into one blob."""
    person = analysis.mask > 0.5
    height, width = person.shape
    eyes = float(analysis.keypoints[[2, 5], 1].mean())
    top = int(np.clip(eyes + _EYE_TO_CROTCH_STATURE * lost.height_px, 0, lost.cut_row))
    cols = np.flatnonzero(person[top : lost.cut_row + 1].any(axis=0))
    reach = _LOST_LEGS_REACH_M * lost.height_px / height_m
    left, right = int(max(cols[0] - reach, 0)), int(min(cols[-1] + 1 + reach, width))
    bottom = int(min(lost.feet_row + 0.03 * lost.height_px, height))
    out = np.zeros(person.shape, bool)
    out[top:bottom, left:right] = True
    return out


_ARM_RADIUS_M = 0.035  # half an arm's breadth


def _arm_corridor(analysis: PhotoAnalysis, height_m: float) -> np.ndarray:
    """Analysis pixels outside the person mask that lie on an arm by the pose landmarks
    (shoulder-elbow-wrist capsules of ``_ARM_RADIUS_M``, landmarks seen:
    ``bodyfit._parsing.LIMB_SEEN``), shape (h, w), bool. MediaPipe's mask drops an arm that
    hangs against the body in front of a wall of skin colour, while its landmarks still find
    it."""
    from tryon3d.bodyfit._parsing import _seen_limbs

    person = analysis.mask > 0.5
    if not person.any():
        return np.zeros(person.shape, bool)
    radius = _ARM_RADIUS_M / metres_per_pixel(analysis, height_m)
    arms = ((11, 13), (13, 15), (12, 14), (14, 16))  # upper arms and forearms
    on_arms = _seen_limbs(person.shape, analysis.keypoints, analysis.visibility, arms, radius)
    return on_arms & ~person


def _clothed_view(
    photo: Photo,
    analysis: PhotoAnalysis,
    view: str,
    height_m: float,
    notes,
    *,
    lower=None,
    parsings: dict[str, PersonParsing] | None = None,
    posed_skin: dict[str, Callable[[], np.ndarray]] | None = None,
    bare: dict[str, bool] | None = None,
    analyses: dict[str, PhotoAnalysis] | None = None,
):
    """The view's clothed target (``bodyfit._clothed.clothed_target``), or None (with a note)
    when the photo cannot be parsed; the parsing goes into ``parsings[view]``, and into
    ``posed_skin[view]`` (front views) what finds the hands' and forearms' pixels the person
    mask lost near elbows whose wrists are seen (() -> analysis size, bool): skin the fit
    covers only in a pose other than the A-pose (``_Fitter.posed``), which alone asks.
    ``bare[view]`` says whether the person shows skin nearly everywhere (a side view takes the
    front's word: the same person, whose side the network reads less surely); then the
    outline is the body, with no clothes' ease taken off what little the parsing calls
    clothes (in shade, or the outline's blend of the backdrop). Where the parsing finds shoes on
    the person mask's lowest rows, the analysis says so (``PhotoAnalysis.feet_seen``, also
    into ``analyses[view]``): a head that says the person is taller (short hair over the ears,
    a maxi skirt hiding the ankles) does not make the mask one that lost the legs."""
    from PIL import Image

    from tryon3d.bodyfit._clothed import clothed_target
    from tryon3d.bodyfit._parsing import (
        BACKGROUND,
        CLOTHES,
        SHOES,
        SKIN,
        lost_forearm_pixels,
        parse_person,
    )
    from tryon3d.bodyfit._photo import _resize

    try:
        parsing = parse_person(photo, analysis=analysis)
    except ValueError as exc:
        notes.append(f"{view} photo: clothes not parsed ({exc}); its outline was taken as the body")
        return None
    if parsings is not None:
        parsings[view] = parsing
    labels = np.asarray(
        Image.fromarray(parsing.labels).resize(analysis.size, Image.Resampling.NEAREST)
    )
    own_skin = labels == SKIN  # before clothes of the skin's colour join it
    shoes = labels == SHOES
    skin_chroma = _skin_chroma_pixels(photo, analysis, parsing)
    if skin_chroma is not None:
        # the network calls the lowest rows of legs a mask cut short "shoes" (bare legs
        # before a backdrop of their colour); shoes of the skin's own colour are not told
        shoes &= ~skin_chroma
    if not analysis.feet_seen and _shoes_at_the_foot(analysis.mask > 0.5, shoes):
        analysis = replace(analysis, feet_seen=True)
        if analyses is not None:
            analyses[view] = analysis
    labels = _skin_coloured_as_skin(photo, analysis, parsing, labels, skin_chroma=skin_chroma)
    if bare is not None:
        if view == "front" or "front" not in bare:
            person = analysis.mask > 0.5
            share = float((labels == SKIN)[person].mean()) if person.any() else 0.0
            bare[view] = share >= _BARE_SKIN_SHARE
            if bare[view]:
                notes.append(
                    f"{view} photo: skin covers {100 * share:.0f} % of the person: no clothes "
                    "to see through, the outline is taken as the body"
                )
        else:
            bare[view] = bare["front"]
        if bare[view]:
            labels = np.where(np.isin(labels, CLOTHES), SKIN, labels).astype(np.uint8)
    px_per_m = 1.0 / metres_per_pixel(analysis, height_m)
    mask = analysis.mask
    if bare is not None and bare[view]:
        # the outline is the body: the parsing's person, whose edge GrabCut set by colour
        # (MediaPipe's soft edge fills the gap between a side view's hanging arm and the belly:
        # on the unclothed benchmark 0.016-0.068 of a side view's person lay outside the body,
        # 0.009-0.059 of the parsing's)
        mask = (labels != BACKGROUND).astype(np.float32)
    if view == "front":  # a side view's forearms hang over the body: none to lose
        pixels = _resize(photo.pixels, analysis.scale)
        if pixels.shape[:2] == labels.shape:
            search = functools.partial(
                lost_forearm_pixels,
                pixels,
                mask > 0.5,
                labels == SKIN,
                analysis.keypoints,
                analysis.visibility,
                px_per_m,
            )
            lost = search()
            if posed_skin is not None:
                posed_skin[view] = lambda: search(seen_wrists=True) & ~lost
            if lost.any():
                # a forearm before a wall of skin colour: the body is there
                mask = np.where(lost, 1.0, mask).astype(np.float32)
                labels = np.where(lost, SKIN, labels).astype(np.uint8)
                notes.append(
                    f"{view} photo: the person mask lost a forearm; {int(lost.sum())} px of it "
                    "found by colour near the elbow"
                )
    target = clothed_target(
        mask, labels, analysis.keypoints, px_per_m, view=view, lower=lower, own_skin=own_skin
    )
    beyond = _beyond_the_body(analysis, labels)
    return replace(target, bound_only=target.bound_only | beyond) if beyond.any() else target


def _shoes_at_the_foot(person: np.ndarray, shoes: np.ndarray) -> bool:
    """Whether shoes (``shoes``, (h, w) bool) fill at least ``_FOOT_SHOES`` of the person's
    (``person``, (h, w) bool) lowest ``_FOOT_BAND`` of its height: the outline reaches the
    feet. Where a mask lost the legs its lowest rows are knees or thighs."""
    rows = np.flatnonzero(person.any(axis=1))
    if len(rows) < 2:
        return False
    top = rows[-1] - int(_FOOT_BAND * (rows[-1] + 1 - rows[0]))
    band = person[top : rows[-1] + 1]
    return bool(band.any() and shoes[top : rows[-1] + 1][band].mean() >= _FOOT_SHOES)


def _beyond_the_body(analysis: PhotoAnalysis, labels: np.ndarray) -> np.ndarray:
    """Where the outline holds more than the body, (h, w) bool at analysis size: its hair
    above the eyes, where the outline stands taller than the person (``outline_over_height``:
    hair is no stature). Fitted to, it stretched the body's head to the hair's top (real
    street photos: the fitted head stood out over the drawn person's hair; 33 of 40 fits 0.95
    inside her, 31 before). Not the shoes: let free, the feet stopped short of toes bare in
    sandals and the legs wandered inside wide trousers. Not with a wrist over the shoulders
    (the head let free in the hair drifted off the face beside it)."""
    person = analysis.mask > 0.5
    beyond = np.zeros(person.shape, bool)
    if outline_over_height(analysis) <= 1.0:
        return beyond
    eyes = max(int(analysis.keypoints[list(_EYES), 1].mean()), 0)
    beyond[:eyes] = labels[:eyes] == HAIR
    return beyond & person


#: A person at least this share of whom is skin (the parsing's, and "clothes" of the skin's
#: chroma) wears (nearly) nothing: the unclothed benchmark's 16 bodies are 0.96-0.99 skin
#: front on (the network calls up to 0.6 of some clothes, colour takes them back), the clothed
#: benchmark's 48 at most 0.50; swimwear may pass, and stands off the body by nothing anyway.
_BARE_SKIN_SHARE = 0.9


def _own_skin(shares: dict[str, float]) -> dict[str, float]:
    """A girth's outline shares (``ClothedTarget.coverage``) with the skin the parsing found
    itself as skin, and clothes merely of the skin's colour back as cloth."""
    own = shares.get("own_skin", shares["skin"])
    return {**shares, "skin": own, "cloth": shares["cloth"] + shares["skin"] - own}


def _skin_chroma_pixels(photo: Photo, analysis: PhotoAnalysis, parsing) -> np.ndarray | None:
    """Pixels of the person's own skin chroma (within the parser's loose skin bound), (h, w)
    bool at analysis size; None where the photo does not resize to it."""
    import cv2

    from tryon3d.bodyfit._parsing import _SKIN_CHI2, _SKIN_WEAK, _skin_chroma_distance2
    from tryon3d.bodyfit._photo import _resize

    pixels = _resize(photo.pixels, analysis.scale)
    if pixels.shape[:2] != tuple(analysis.mask.shape):
        return None
    chroma = cv2.cvtColor(pixels, cv2.COLOR_RGB2YCrCb)[..., 1:].astype(np.float64)
    distance2 = _skin_chroma_distance2(chroma, parsing.skin_chroma_mean, parsing.skin_chroma_cov)
    return distance2 < _SKIN_CHI2 * _SKIN_WEAK


def _skin_coloured_as_skin(
    photo: Photo,
    analysis: PhotoAnalysis,
    parsing,
    labels: np.ndarray,
    *,
    skin_chroma: np.ndarray | None = None,
):
    """``labels`` (analysis size) with "clothes" of the person's own skin chroma
    (``_skin_chroma_pixels``, or ``skin_chroma`` where the caller has it) taken for skin: a
    bare body in shade must not be shrunk as if clothed; skin-coloured clothes are then fitted
    as before (the outline as the body)."""
    from tryon3d.bodyfit._parsing import CLOTHES, SKIN

    if skin_chroma is None:
        skin_chroma = _skin_chroma_pixels(photo, analysis, parsing)
    if skin_chroma is None:
        return labels
    clothes = np.isin(labels, CLOTHES)
    return np.where(clothes & skin_chroma, SKIN, labels).astype(np.uint8)


_FIT_GIRTH_STD_M = 0.015  # the fit's own girth error on unclothed photos (benchmarks/photo_fit.py)
_REFIT_FROM_M = 0.003  # posterior girths this near the outline's: the body is kept as fitted


def _girth_posterior(
    body: Body,
    clothing: dict,
    *,
    height_m: float,
    weight_kg: float | None,
    sex: str,
    age_years: float | None,
    side_view: bool,
    bounds_only: bool = False,
):
    """The fitted body's chest, waist and hips weighed against the population prior
    (``bodyfit._girth_posterior``); without a side view every reading is less sure;
    ``bounds_only``: girths the outline reads above the prior's mean are only bounded by it
    (the prior cut there), not read: clothes, a stride and raised bare arms beside the chest
    widen an outline, while one under the mean is the body's own (a heavy woman in a tight tee
    read 95.9 cm for her 105.5 cm chest with a hand on her head; bounded there, 92.3)."""
    from tryon3d.bodyfit._girth_posterior import (
        girth_posterior,
        girth_prior,
        load_photo_girth_error,
    )

    mean, cov = girth_prior(height_m=height_m, weight_kg=weight_kg, sex=sex, age_years=age_years)
    error = load_photo_girth_error("height_only" if weight_kg is None else "with_weight")
    if not side_view:
        error = error.without_side_view(NO_SIDE_STD_M)
    evidence = girth_evidence(clothing)
    reading = {g: float(body.measurements_m[g]) for g in GIRTHS}
    if bounds_only:
        evidence = {
            g: "hidden" if reading[g] > mean[GIRTHS.index(g)] else e for g, e in evidence.items()
        }
    return girth_posterior(
        reading,
        evidence,
        prior_mean=mean,
        prior_cov=cov,
        error=error,
    )


def _refit_to_girths(
    body: Body,
    girths_m: dict[str, float],
    *,
    model: AnnyModel,
    height_m: float,
    weight_kg: float | None,
    sex: Sex,
    age_years: float,
    height_ratios: dict[str, float],
) -> Body:
    """``body`` reshaped to ``girths_m`` [m] (stature and, when given, mass held), starting
    from and pulled towards its own shape sliders, in its pose; unchanged when it already
    reads them within ``_REFIT_FROM_M``."""
    from tryon3d.bodyfit._fit import FitTarget, fit_shape
    from tryon3d.bodyfit._measurements import rebuild_body

    if all(abs(body.measurements_m[g] - v) < _REFIT_FROM_M for g, v in girths_m.items()):
        return body
    targets = {"stature": FitTarget(height_m, 4.0)}
    if weight_kg is not None:
        targets["weight_kg"] = FitTarget(weight_kg, 1.5)
    targets.update({g: FitTarget(v, 3.0) for g, v in girths_m.items()})
    start = np.array([body.shape_parameters[name] for name in model.parameter_names])
    result = fit_shape(
        model, targets, sex=sex, age_years=age_years, height_ratios=height_ratios, start=start
    )
    return rebuild_body(
        model="anny",
        shape_parameters=dict(zip(model.parameter_names, result.parameters, strict=True)),
        sex=sex,
        age_years=age_years,
        pose=body.pose,
        height_ratios=height_ratios,
        inputs=body.inputs,
    )


_LIMB_REFIT_STEPS = 6  # arm-only refinement steps after the girth refit (views off the A-pose)


#: girth -> the anny slider that changes it and no other girth (the chest by 0.2 cm at most,
#: the refit's own tolerance, for a 5 cm upper arm)
_ARM_SLIDERS = {"upper_arm": "measure-upperarm-circ-incr", "wrist": "measure-wrist-circ-incr"}
_ARM_PROBE = 0.2  # slider step of the slope probe


def _arms_as_fitted(
    body: Body,
    fitted: Body,
    *,
    model: AnnyModel,
    sex: Sex,
    age_years: float,
    height_ratios: dict[str, float],
) -> Body:
    """``body`` (refit to the girths) with its arms' own sliders (``_ARM_SLIDERS``) set so
    that its upper arm and wrist read as the outline fit's (``fitted``) again: the refit's
    global sliders (weight, muscle) thin the arms with the torso, while the photo showed the
    arms themselves (bare or in a sleeve) as fitted. The sliders are local: the chest, waist
    and hips stay the refit's. One secant step (the girths are linear in them)."""
    from tryon3d.bodyfit._measurements import rebuild_body

    names = list(model.parameter_names)
    parameters = dict(body.shape_parameters)
    # each slider probed towards the inside of its range (a slider the fit left near its top,
    # probed upwards, left the model's range and the photo was refused)
    steps = {
        s: _ARM_PROBE
        if parameters[s] + _ARM_PROBE <= model.parameter_bounds[names.index(s)][1]
        else -_ARM_PROBE
        for s in _ARM_SLIDERS.values()
    }
    probe = {**parameters, **{s: parameters[s] + step for s, step in steps.items()}}

    def build(shape):
        return rebuild_body(
            model="anny",
            shape_parameters=shape,
            sex=sex,
            age_years=age_years,
            pose=body.pose,
            height_ratios=height_ratios,
            inputs=body.inputs,
        )

    probed = build(probe)
    for girth, slider in _ARM_SLIDERS.items():
        slope = (probed.measurements_m[girth] - body.measurements_m[girth]) / steps[slider]
        if slope <= 1e-4:
            continue
        low, high = model.parameter_bounds[names.index(slider)]
        wanted = fitted.measurements_m[girth] - body.measurements_m[girth]
        parameters[slider] = float(np.clip(parameters[slider] + wanted / slope, low, high))
    return build(parameters)


def _limbs_to_refit(
    body: Body, fitter: _Fitter, *, model: AnnyModel
) -> tuple[Body, dict[str, np.ndarray]]:
    """``body`` (refit to the girths) and the views' poses with the arms of views off the
    A-pose re-aimed at their silhouettes for the refit's shape (``_Fitter.refine_limbs``):
    the refit moves the shoulders and thins the arms, and the arms the outline fit placed
    then miss the skin they covered. The shape is held: the girths stay the refit's."""
    from tryon3d.bodyfit._anny_pose import pose_anny_vertices

    parameters = np.array([body.shape_parameters[name] for name in model.parameter_names])
    fitter.refine_limbs(parameters, _LIMB_REFIT_STEPS)
    poses = fitter.view_poses()
    vertices, joints = pose_anny_vertices(
        model, body.rest_vertices, body.rest_joints, poses["front"]
    )
    return body.with_pose(vertices, joints, poses["front"]), poses


def _posterior_for(
    which, posterior, girths: dict[str, float], spread: dict[str, float], sources: dict[str, str]
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """``girths``, ``spread`` and ``sources`` with the girths named in ``which`` taken from
    ``posterior`` (its mean, standard deviation and source)."""
    return (
        {g: posterior.mean_m[g] if g in which else girths[g] for g in GIRTHS},
        {g: posterior.std_m[g] if g in which else spread[g] for g in GIRTHS},
        {g: posterior.sources[g] if g in which else sources[g] for g in GIRTHS},
    )


def _corrected_girths(
    posterior,
    readings: dict[str, float],
    *,
    side_view: bool,
    height_m: float,
    weight_kg: float | None,
    sex: str,
    age_years: float | None,
) -> tuple[
    dict[str, float], dict[str, float], dict[str, str], tuple[str, ...], bool, tuple[str, ...]
]:
    """The posterior's girths, spreads and sources corrected by what else the photos show
    (``GirthCorrection``: front and side photos, or the front alone, each its own; where the
    front's readings are implausible for the A-pose corrections, the one learnt on arms-down
    photos if it reads that front, else the side alone), or the posterior's own where the
    shipped table has no correction for the mode and views or no view's readings are
    plausible; then the readings left out as implausible, whether the correction was
    applied, and the girths of a body beyond every training body (``_beyond_training``)."""
    from tryon3d.bodyfit._girth_posterior import (
        _view_of,
        correction_features,
        girth_sources,
        load_girth_correction,
    )

    mode = "height_only" if weight_kg is None else "with_weight"
    correction = load_girth_correction(mode, side_view=side_view)
    if correction is None:
        return posterior.mean_m, posterior.std_m, posterior.sources, (), False, ()
    features = correction_features(
        posterior_m=posterior.mean_m,
        readings=readings,
        height_m=height_m,
        weight_kg=weight_kg,
        sex=sex,
        age_years=age_years,
    )

    def read_by(correction) -> tuple[tuple[str, ...], set[str]]:
        """Its implausible readings, and the views whose readings are all implausible."""
        dropped = correction.implausible(features)
        lost = {
            view
            for view in ("front", "side")
            if (ours := [n for n in correction.features if _view_of(n) == view and n in features])
            and set(ours) <= set(dropped)
        }
        return dropped, lost

    dropped, lost = read_by(correction)
    reads_front = correction  # the correction whose pose the front is judged by
    if "front" in lost:
        # arms off the A-pose: the correction learnt on photos whose arms hang towards the
        # sides where it reads this front; else, with a side photo, the side's readings alone
        posed = (
            load_girth_correction(mode, side_view=side_view, arms_down=True)
            if correction.arms_off(features)
            else None
        )
        reads_front = posed or reads_front
        if posed is not None and "front" not in (posed_read := read_by(posed))[1]:
            correction, (dropped, lost) = posed, posed_read
        elif "side" not in lost:
            correction = load_girth_correction(mode, side_view=side_view, front_readings=False)
    if correction is None or lost >= {
        _view_of(n) for n in correction.features if _view_of(n) and n in features
    }:  # no view's outline left to read: the correction knows this photo no better
        beyond = _beyond_training(posterior, reads_front, features)
        return posterior.mean_m, posterior.std_m, posterior.sources, dropped, False, beyond
    deviation = correction.predict(features)
    girths = {g: posterior.prior_mean_m[g] + float(deviation[i]) for i, g in enumerate(GIRTHS)}
    spread = {g: float(correction.std_m[i]) for i, g in enumerate(GIRTHS)}
    sources = girth_sources(
        spread, {g: float(correction.prior_std_m[i]) for i, g in enumerate(GIRTHS)}
    )
    return (
        girths,
        spread,
        sources,
        dropped,
        True,
        _beyond_training(posterior, reads_front, features),
    )


#: Prior spreads above the population prior's mean beyond which a clothed posterior girth lies
#: outside every body the corrections were learnt on (ANSUR II, BMI 18-35: the clothed
#: benchmark's largest posterior, a BMI 33 woman in a loose tee, sat 2.5 above).
_BEYOND_Z = 3.0


def _beyond_training(posterior, correction, features: dict[str, float]) -> tuple[str, ...]:
    """The girths whose clothed posterior (the outline less the clothes' ease, with the
    prior) lies more than ``_BEYOND_Z`` prior spreads above the prior's mean while the photos'
    pose and scale are plausible for ``correction`` (no pose, torso-drop or side-depth reading
    of its features far off its training photos): a body larger than every training body, not
    an outline widened by a stride or a raised arm. The corrections, learnt on bodies within
    the range, pull such a girth back to the range (three plus-size women in real photos read
    at the prior's mean, 40 cm under their outline's posterior); it stays the posterior's."""
    from tryon3d.bodyfit._girth_posterior import _SCALE_GROUP, far_features

    far = far_features(correction.features, features, correction.centre, correction.robust_scale)
    if any(name.startswith(_SCALE_GROUP) for name in far):
        return ()
    return _girths_over(posterior, _BEYOND_Z)


def _girths_over(posterior, spreads: float) -> tuple[str, ...]:
    """The girths whose ``posterior`` mean lies over ``spreads`` prior spreads above the
    prior's mean."""
    return tuple(
        g
        for g in GIRTHS
        if posterior.mean_m[g] - posterior.prior_mean_m[g] > spreads * posterior.prior_std_m[g]
    )


#: Prior spreads above the prior's mean beyond which the clothed posterior of every girth, read
#: in a pose no correction knows, still proves a large body: a hand on the head widened our
#: renders' outlines by 1-5 cm (a spread is 7-10 cm), and every other pose test reads at most
#: 0.3 spreads over; a plus-size woman's read 5 spreads over when this was set, and 3.95 /
#: 4.29 / 4.17 on a new machine with code that had passed CI at 4.0 on the one before: the
#: edge sits well between the two, not on her.
_UNREAD_BEYOND_Z = 3.5


#: The least share of the floored body's front silhouette inside the person's mask (the share
#: the photo fit is held to on real photos).
_FLOOR_INSIDE = 0.95


def _unread_floor(posterior) -> dict[str, float]:
    """Girth -> its least value [m] where the clothed ``posterior`` of a photo no correction
    reads lies over ``_UNREAD_BEYOND_Z`` prior spreads above the prior's mean at the chest, the
    waist and the hips alike: the edge of the training bodies (``_BEYOND_Z`` spreads above the
    mean), not the prior's mean the pose's bound would give; below that edge the outline cannot
    say how much the pose widened it. A large body is large at every girth; one girth far over
    alone is more likely a flaring garment or a limb in the outline, so then none is floored.
    (Poses can still read every girth that far over: an arm held out to a wall and an open shirt
    did, on a curvy woman; the fit's inside check, ``_FLOOR_INSIDE``, catches that.)"""
    if len(_girths_over(posterior, _UNREAD_BEYOND_Z)) < len(GIRTHS):
        return {}
    return {g: posterior.prior_mean_m[g] + _BEYOND_Z * posterior.prior_std_m[g] for g in GIRTHS}


def _dropped_note(dropped: tuple[str, ...], *, corrected: bool) -> str:
    """A note naming the outline readings left out of the girths (a whole view by its name)."""
    from tryon3d.bodyfit._girth_posterior import _view_of

    parts = []
    for view in ("front", "side"):
        ours = [name for name in dropped if _view_of(name) == view]
        if any(name.startswith("profile_") for name in ours):  # profiles go with their view
            parts.append(f"the {view} photo's outline ({len(ours)} readings)")
        else:
            parts.extend(ours)
    parts += [name for name in dropped if _view_of(name) is None]
    return (
        "not read for the girths, being unlike every training photo's (the A-pose, or arms "
        "hanging towards the sides; raised arms, a stride, crossed legs, or a person mask or "
        "landmark gone wrong): "
        + ", ".join(parts)
        + (
            ""
            if corrected
            else "; girths it reads above the population prior's mean are that prior's, "
            "cut at the outline"
        )
    )


def _posterior_notes(
    posterior,
    girths: dict[str, float],
    spread: dict[str, float],
    sources: dict[str, str],
    *,
    weight_given: bool,
) -> list[str]:
    """Plain statements of the girths the photo could not tell."""
    given = "height and weight" if weight_given else "height"
    notes = []
    for girth, source in sources.items():
        if source != "prior":
            continue
        loose = posterior.loose_probability[girth]
        why = "loose clothes hide it" if loose > 0.5 else "the photo reads it too unsurely"
        notes.append(
            f"the photo could not tell the {girth} ({why}): it is the population prior's for "
            f"the {given}, within the outline: {100 * girths[girth]:.1f} +/- "
            f"{100 * spread[girth]:.1f} cm"
        )
    return notes
