"""A deployment completed once its image is known (run/completion.py), on a plan made by
decide: the image's reference and code directory go into the spec and it is compared with
the server again; parameters are judged here only when the schema came from the image."""

from __future__ import annotations

from dataclasses import replace

from prefect_flow_deploy.core.results import ComputedFlow, ImageOutcome
from prefect_flow_deploy.rules import decide
from prefect_flow_deploy.run.completion import completed, parameters_refused
from tests.unit.rules.test_decide import OPTIONS, folder, inputs


def test_the_image_s_reference_and_code_dir_go_into_the_spec_and_it_is_compared_again() -> None:
    plan = decide.plan(inputs(folder("daily")), OPTIONS)
    [planned] = plan.deployments
    [image] = plan.images
    done = completed(planned, ImageOutcome("built", "sha256:1", "/opt/code/daily"), plan, OPTIONS)
    assert done.spec is not None
    assert done.spec.code_dir == "/opt/code/daily" and done.spec.image == image.reference
    assert done.action == "create" and done.full_name == planned.full_name


def test_parameters_are_judged_here_only_when_the_image_told_the_schema() -> None:
    plan = decide.plan(inputs(folder("daily")), OPTIONS)
    [planned] = plan.deployments
    assert planned.spec is not None and planned.spec.parameter_schema is not None
    deployment = replace(planned, spec=replace(planned.spec, parameters={"no_such_parameter": 1}))
    # The plan knew the schema (read from the source): decide judged it, not this.
    assert parameters_refused(planned, deployment, OPTIONS, (None, None)) is None
    unknown = replace(planned, spec=replace(planned.spec, parameter_schema=None))
    refused = parameters_refused(unknown, deployment, OPTIONS, (None, None))
    assert refused is not None and "no_such_parameter" in str(refused.error)


def test_a_name_the_image_computed_comes_with_the_description_prefect_gives_it() -> None:
    """Trial round 11 b 2: a flow made by a decorator factory (`@register_flow(name="x")`)
    was registered with description "" where `prefect deploy` registers its docstring: the
    image answers both. A description the entry or the source gives is kept."""
    from tests.unit.rules.test_pending_names import pending_folder

    plan = decide.plan(inputs(pending_folder()), OPTIONS)
    [planned] = plan.deployments
    image = ImageOutcome(
        "built", "sha256:1", "/opt/code/daily",
        names={"flow.py:daily": ComputedFlow("daily-made", "Made daily.")},
    )  # fmt: skip
    done = completed(planned, image, plan, OPTIONS)
    assert done.spec is not None and done.full_name == "daily-made/sales"
    assert done.spec.description == "Made daily."
    assert planned.spec is not None
    given = replace(planned, spec=replace(planned.spec, description="From the entry."))
    kept = completed(given, image, plan, OPTIONS).spec
    assert kept is not None and kept.description == "From the entry."
