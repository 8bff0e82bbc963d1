"""Handlers for aws_appautoscaling_target and aws_appautoscaling_policy (application-autoscaling API;
see base.py for the contract).

Ids as the real provider documents them: a target's id is its resource_id, imported as
`service-namespace/resource-id/scalable-dimension`; a policy's id is its name, imported as
`service-namespace/resource-id/scalable-dimension/policy-name`. Resource ids and policy names may
hold slashes ("table/photos", "DynamoDBReadCapacityUtilization:table/photos"), so an import id is
split at the scalable dimension, the first part after the namespace that reads
`<namespace>:<resource type>:<property>`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from toolkit.tfprovider.resources.base import (
    Api,
    Handler,
    ResourceError,
    State,
    aws_failure,
    error_code,
    first_block,
    integral,
)

_KEYS = ("service_namespace", "resource_id", "scalable_dimension")

# Endpoints whose application-autoscaling has no tagging API (moto answers TagResource and
# ListTagsForResource with HTTP 500): tags are then sent with RegisterScalableTarget only.
_NO_TAGGING: set[str] = set()


def _not_found(exc: ClientError) -> bool:
    # AWS: ObjectNotFoundException; moto: ValidationException "No scalable target/scaling policy found"
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return code == "ObjectNotFoundException" or (code == "ValidationException" and "found" in message)


def split_import_id(import_id: str, *, with_name: bool) -> tuple[str, str, str, str] | None:
    """(namespace, resource id, dimension, policy name or "") from an import id; None if malformed."""
    parts = import_id.split("/")
    namespace = parts[0]
    for i in range(2, len(parts)):
        part = parts[i]
        if part.startswith(f"{namespace}:") and part.count(":") == 2:
            name = "/".join(parts[i + 1 :])
            if bool(name) != with_name:
                return None
            return namespace, "/".join(parts[1:i]), part, name
    return None


# --- aws_appautoscaling_target


def _tagging_supported(api: Api) -> bool:
    return api.endpoints.get("applicationautoscaling", "") not in _NO_TAGGING


def _no_tagging_api(api: Api, exc: ClientError) -> bool:
    if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500 or error_code(exc) == "500":
        _NO_TAGGING.add(api.endpoints.get("applicationautoscaling", ""))
        return True
    return False


def _target_tags(api: Api, arn: str) -> dict[str, str] | None:
    """Live tags, or None when the endpoint cannot tell (moto)."""
    if not _tagging_supported(api):
        return None
    try:
        return dict(api.autoscaling.list_tags_for_resource(ResourceARN=arn).get("Tags") or {})
    except ClientError as exc:
        if _no_tagging_api(api, exc):
            return None
        raise


def _describe_target(api: Api, state: State) -> dict[str, Any] | None:
    namespace, resource_id, dimension = (state[k] for k in _KEYS)
    kwargs: dict[str, Any] = {
        "ServiceNamespace": namespace,
        "ResourceIds": [resource_id],
        "ScalableDimension": dimension,
    }
    while True:
        page = api.autoscaling.describe_scalable_targets(**kwargs)
        for target in page.get("ScalableTargets") or []:
            if (target["ResourceId"], target["ScalableDimension"]) == (resource_id, dimension):
                return dict(target)
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def _suspended_spec(state: State) -> dict[str, bool] | None:
    block = first_block(state.get("suspended_state"))
    if not block:
        return None
    return {
        "DynamicScalingInSuspended": bool(block.get("dynamic_scaling_in_suspended")),
        "DynamicScalingOutSuspended": bool(block.get("dynamic_scaling_out_suspended")),
        "ScheduledScalingSuspended": bool(block.get("scheduled_scaling_suspended")),
    }


def _register(api: Api, planned: State, *, tags: bool) -> None:
    args: dict[str, Any] = {
        "ServiceNamespace": planned["service_namespace"],
        "ResourceId": planned["resource_id"],
        "ScalableDimension": planned["scalable_dimension"],
        "MinCapacity": int(planned["min_capacity"]),
        "MaxCapacity": int(planned["max_capacity"]),
    }
    if planned.get("role_arn"):
        args["RoleARN"] = planned["role_arn"]
    suspended = _suspended_spec(planned)
    if suspended:
        args["SuspendedState"] = suspended
    if tags and planned.get("tags_all"):
        args["Tags"] = dict(planned["tags_all"])  # moto accepts and drops them
    try:
        api.autoscaling.register_scalable_target(**args)
    except ClientError as exc:
        raise aws_failure(f"registering scalable target {planned['resource_id']}", exc) from exc


def _target_read(api: Api, state: State) -> State | None:
    if not all(state.get(k) for k in _KEYS):
        return None
    live = _describe_target(api, state)
    if live is None:
        return None
    suspended = live.get("SuspendedState") or {}
    block = {
        "dynamic_scaling_in_suspended": bool(suspended.get("DynamicScalingInSuspended")),
        "dynamic_scaling_out_suspended": bool(suspended.get("DynamicScalingOutSuspended")),
        "scheduled_scaling_suspended": bool(suspended.get("ScheduledScalingSuspended")),
    }
    out: State = {
        "id": live["ResourceId"],
        "arn": live.get("ScalableTargetARN"),
        "region": api.region,
        "service_namespace": live["ServiceNamespace"],
        "resource_id": live["ResourceId"],
        "scalable_dimension": live["ScalableDimension"],
        "min_capacity": integral(live.get("MinCapacity")),
        "max_capacity": integral(live.get("MaxCapacity")),
        # AWS fills in the service-linked role; moto echoes what was sent (nothing, here)
        "role_arn": live.get("RoleARN"),
        # AWS reports all three false when nothing is suspended: that is no block in the configuration
        "suspended_state": [block] if state.get("suspended_state") or any(block.values()) else [],
    }
    tags_all = _target_tags(api, str(out["arn"])) if out["arn"] else None
    if tags_all is not None:
        out["tags_all"] = tags_all
        out["tags"] = api.tags_for(tags_all)
    # else: the endpoint has no tagging API (moto): tags and tags_all keep their prior values
    return out


def _target_create(api: Api, planned: State) -> State:
    _register(api, planned, tags=True)
    read = _target_read(api, planned)
    if read is None:
        raise ResourceError("registering scalable target", f"{planned['resource_id']} is not there after registering")
    return {**planned, **read}


def _target_update(api: Api, prior: State, planned: State) -> State:
    _register(api, planned, tags=False)
    arn = prior.get("arn")
    want = dict(planned.get("tags_all") or {})
    live = _target_tags(api, str(arn)) if arn else None
    if live is not None and live != want:
        try:
            gone = [k for k in live if k not in want]
            if gone:
                api.autoscaling.untag_resource(ResourceARN=arn, TagKeys=gone)
            changed = {k: v for k, v in want.items() if live.get(k) != v}
            if changed:
                api.autoscaling.tag_resource(ResourceARN=arn, Tags=changed)
        except ClientError as exc:
            raise aws_failure(f"tagging scalable target {planned['resource_id']}", exc) from exc
    read = _target_read(api, planned)
    if read is None:
        raise ResourceError("updating scalable target", f"{planned['resource_id']} is gone")
    return {**planned, **read}


def _target_delete(api: Api, state: State) -> None:
    try:
        api.autoscaling.deregister_scalable_target(
            ServiceNamespace=state["service_namespace"],
            ResourceId=state["resource_id"],
            ScalableDimension=state["scalable_dimension"],
        )
    except ClientError as exc:
        if _not_found(exc):
            return
        raise aws_failure(f"deregistering scalable target {state['resource_id']}", exc) from exc


def _target_import(api: Api, import_id: str) -> State | None:
    parts = split_import_id(import_id, with_name=False)
    if parts is None:
        raise ResourceError(
            "importing aws_appautoscaling_target",
            f"unexpected id {import_id!r}: expected <service-namespace>/<resource-id>/<scalable-dimension>",
        )
    namespace, resource_id, dimension, _ = parts
    state: State = {"id": resource_id, "service_namespace": namespace, "resource_id": resource_id}
    state["scalable_dimension"] = dimension
    return state if _describe_target(api, state) is not None else None


TARGET = Handler(
    type_name="aws_appautoscaling_target",
    create=_target_create,
    read=_target_read,
    update=_target_update,
    delete=_target_delete,
    import_state=_target_import,
    replace_on=frozenset({*_KEYS, "region"}),
)


# --- aws_appautoscaling_policy


def _dimensions_spec(blocks: Any) -> list[dict[str, str]]:
    return [{"Name": d["name"], "Value": d["value"]} for d in blocks or []]


def _dimensions_state(live: Any) -> list[dict[str, str]]:
    return [{"name": d["Name"], "value": d["Value"]} for d in live or []]


def _target_tracking_spec(block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"TargetValue": block["target_value"]}
    for key, api_key in (
        ("disable_scale_in", "DisableScaleIn"),
        ("scale_in_cooldown", "ScaleInCooldown"),
        ("scale_out_cooldown", "ScaleOutCooldown"),
    ):
        if block.get(key) is not None:
            out[api_key] = int(block[key]) if key.endswith("cooldown") else bool(block[key])
    predefined = first_block(block.get("predefined_metric_specification"))
    if predefined:
        spec = {"PredefinedMetricType": predefined["predefined_metric_type"]}
        if predefined.get("resource_label"):
            spec["ResourceLabel"] = predefined["resource_label"]
        out["PredefinedMetricSpecification"] = spec
    customized = first_block(block.get("customized_metric_specification"))
    if customized:
        if customized.get("metrics"):
            raise ResourceError(
                "aws_appautoscaling_policy", "customized_metric_specification.metrics is not supported by this provider"
            )
        metric: dict[str, Any] = {
            key: customized[name]
            for name, key in (
                ("metric_name", "MetricName"),
                ("namespace", "Namespace"),
                ("statistic", "Statistic"),
                ("unit", "Unit"),
            )
            if customized.get(name) is not None
        }
        if customized.get("dimensions"):
            metric["Dimensions"] = _dimensions_spec(customized["dimensions"])
        out["CustomizedMetricSpecification"] = metric
    return out


def _target_tracking_state(live: dict[str, Any]) -> dict[str, Any]:
    predefined = live.get("PredefinedMetricSpecification")
    customized = live.get("CustomizedMetricSpecification")
    return {
        "target_value": integral(live.get("TargetValue")),
        "disable_scale_in": live.get("DisableScaleIn"),
        "scale_in_cooldown": integral(live.get("ScaleInCooldown")),
        "scale_out_cooldown": integral(live.get("ScaleOutCooldown")),
        "predefined_metric_specification": [
            {
                "predefined_metric_type": predefined.get("PredefinedMetricType"),
                "resource_label": predefined.get("ResourceLabel"),
            }
        ]
        if predefined
        else [],
        "customized_metric_specification": [
            {
                "metric_name": customized.get("MetricName"),
                "namespace": customized.get("Namespace"),
                "statistic": customized.get("Statistic"),
                "unit": customized.get("Unit"),
                "dimensions": _dimensions_state(customized.get("Dimensions")),
                "metrics": [],
            }
        ]
        if customized
        else [],
    }


def _bound(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _bound_state(value: Any) -> str | None:
    if value is None:
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _step_spec(block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, key in (
        ("adjustment_type", "AdjustmentType"),
        ("metric_aggregation_type", "MetricAggregationType"),
    ):
        if block.get(name) is not None:
            out[key] = block[name]
    for name, key in (("cooldown", "Cooldown"), ("min_adjustment_magnitude", "MinAdjustmentMagnitude")):
        if block.get(name) is not None:
            out[key] = int(block[name])
    steps = []
    for step in block.get("step_adjustment") or []:
        item: dict[str, Any] = {"ScalingAdjustment": int(step["scaling_adjustment"])}
        lower, upper = _bound(step.get("metric_interval_lower_bound")), _bound(step.get("metric_interval_upper_bound"))
        if lower is not None:
            item["MetricIntervalLowerBound"] = lower
        if upper is not None:
            item["MetricIntervalUpperBound"] = upper
        steps.append(item)
    if steps:
        out["StepAdjustments"] = steps
    return out


def _step_state(live: dict[str, Any]) -> dict[str, Any]:
    return {
        "adjustment_type": live.get("AdjustmentType"),
        "metric_aggregation_type": live.get("MetricAggregationType"),
        "cooldown": integral(live.get("Cooldown")),
        "min_adjustment_magnitude": integral(live.get("MinAdjustmentMagnitude")),
        "step_adjustment": [
            {
                "scaling_adjustment": integral(s.get("ScalingAdjustment")),
                "metric_interval_lower_bound": _bound_state(s.get("MetricIntervalLowerBound")),
                "metric_interval_upper_bound": _bound_state(s.get("MetricIntervalUpperBound")),
            }
            for s in live.get("StepAdjustments") or []
        ],
    }


def _put_policy(api: Api, planned: State) -> None:
    if planned.get("predictive_scaling_policy_configuration"):
        raise ResourceError(
            "aws_appautoscaling_policy", "predictive_scaling_policy_configuration is not supported by this provider"
        )
    args: dict[str, Any] = {
        "PolicyName": planned["name"],
        "ServiceNamespace": planned["service_namespace"],
        "ResourceId": planned["resource_id"],
        "ScalableDimension": planned["scalable_dimension"],
        "PolicyType": planned.get("policy_type") or "StepScaling",  # the real provider's default
    }
    tracking = first_block(planned.get("target_tracking_scaling_policy_configuration"))
    if tracking:
        args["TargetTrackingScalingPolicyConfiguration"] = _target_tracking_spec(tracking)
    step = first_block(planned.get("step_scaling_policy_configuration"))
    if step:
        args["StepScalingPolicyConfiguration"] = _step_spec(step)
    try:
        api.autoscaling.put_scaling_policy(**args)
    except ClientError as exc:
        raise aws_failure(f"putting scaling policy {planned['name']}", exc) from exc


def _describe_policy(api: Api, state: State) -> dict[str, Any] | None:
    name = state.get("name") or state["id"]
    kwargs: dict[str, Any] = {
        "ServiceNamespace": state["service_namespace"],
        "ResourceId": state["resource_id"],
        "ScalableDimension": state["scalable_dimension"],
        "PolicyNames": [name],
    }
    while True:
        page = api.autoscaling.describe_scaling_policies(**kwargs)
        # moto ignores PolicyNames and matches ResourceId as a substring: compare exactly here
        for policy in page.get("ScalingPolicies") or []:
            key = (policy["PolicyName"], policy["ResourceId"], policy["ScalableDimension"])
            if key == (name, state["resource_id"], state["scalable_dimension"]):
                return dict(policy)
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def _policy_read(api: Api, state: State) -> State | None:
    if not all(state.get(k) for k in _KEYS):
        return None
    live = _describe_policy(api, state)
    if live is None:
        return None
    tracking = live.get("TargetTrackingScalingPolicyConfiguration")
    step = live.get("StepScalingPolicyConfiguration")
    return {
        "id": live["PolicyName"],
        "name": live["PolicyName"],
        "arn": live.get("PolicyARN"),
        "region": api.region,
        "policy_type": live.get("PolicyType"),
        "service_namespace": live["ServiceNamespace"],
        "resource_id": live["ResourceId"],
        "scalable_dimension": live["ScalableDimension"],
        "alarm_arns": [a["AlarmARN"] for a in live.get("Alarms") or []],
        "target_tracking_scaling_policy_configuration": [_target_tracking_state(tracking)] if tracking else [],
        "step_scaling_policy_configuration": [_step_state(step)] if step else [],
        "predictive_scaling_policy_configuration": [],
    }


def _policy_put(api: Api, planned: State) -> State:
    _put_policy(api, planned)
    read = _policy_read(api, planned)
    if read is None:
        raise ResourceError("putting scaling policy", f"{planned['name']} is not there after PutScalingPolicy")
    return {**planned, **read}


def _policy_delete(api: Api, state: State) -> None:
    try:
        api.autoscaling.delete_scaling_policy(
            PolicyName=state.get("name") or state["id"],
            ServiceNamespace=state["service_namespace"],
            ResourceId=state["resource_id"],
            ScalableDimension=state["scalable_dimension"],
        )
    except ClientError as exc:
        if _not_found(exc):
            return
        raise aws_failure(f"deleting scaling policy {state.get('name') or state['id']}", exc) from exc


def _policy_import(api: Api, import_id: str) -> State | None:
    parts = split_import_id(import_id, with_name=True)
    if parts is None:
        raise ResourceError(
            "importing aws_appautoscaling_policy",
            f"unexpected id {import_id!r}: expected "
            "<service-namespace>/<resource-id>/<scalable-dimension>/<policy-name>",
        )
    namespace, resource_id, dimension, name = parts
    state: State = {"id": name, "name": name, "service_namespace": namespace, "resource_id": resource_id}
    state["scalable_dimension"] = dimension
    return state if _describe_policy(api, state) is not None else None


POLICY = Handler(
    type_name="aws_appautoscaling_policy",
    create=_policy_put,
    read=_policy_read,
    update=lambda api, prior, planned: _policy_put(api, planned),
    delete=_policy_delete,
    import_state=_policy_import,
    replace_on=frozenset({"name", *_KEYS, "region"}),
)

HANDLERS: list[Handler] = [TARGET, POLICY]
