"""Asset checks of the planning assets: a spec declares the rule, the asset yields its result.

Each planning asset runs its rules (sop_pipeline.*.checks, pure functions returning problem
strings) on the rows it has just written and yields one AssetCheckResult per spec. A blocking
check (wrong data must stop the cycle) fails with ERROR severity, so Dagster skips everything
downstream and the run fails; a non-blocking one warns and the cycle goes on.
"""

from collections.abc import Iterable

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
)


def check_spec(name: str, asset: str, description: str, *, blocking: bool) -> AssetCheckSpec:
    return AssetCheckSpec(name, asset=asset, description=description, blocking=blocking)


def check_result(context: AssetExecutionContext, spec: AssetCheckSpec,
                 problems: Iterable[str]) -> AssetCheckResult:
    """The spec's result: passed without problems, else each problem logged and listed."""
    problems = list(problems)
    severity = AssetCheckSeverity.ERROR if spec.blocking else AssetCheckSeverity.WARN
    for problem in problems:
        (context.log.error if spec.blocking else context.log.warning)(
            f"check {spec.name} failed: {problem}")
    return AssetCheckResult(
        check_name=spec.name, asset_key=spec.asset_key, passed=not problems,
        severity=severity,
        metadata={"problems": MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
                  "problem_count": len(problems)})
