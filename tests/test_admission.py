"""API defaulting and validation, compared with what kube-apiserver stores and answers.

Expected messages are apimachinery's formats: field/errors.go (ErrorBody, NotSupported),
util/validation/validation.go (RegexError, IsDNS1123Label...), api/errors.NewInvalid, and
the core/apps validation they come from.
"""
from __future__ import annotations

import pytest

from labkit.sandbox.registry._admission import Invalid, default, valid_name_message, validate
from labkit.sandbox._config import SandboxConfig

CFG = SandboxConfig()

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


def nginx_deployment(**spec) -> dict:
    d = {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "web"}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25",
                                                        "ports": [{"containerPort": 80}]}]}}}}
    d["spec"].update(spec)
    return d


def pod(**spec) -> dict:
    base = {"containers": [{"name": "client", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "default"},
            "spec": base}


def service(**spec) -> dict:
    base = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc", "namespace": "default"},
            "spec": base}


def errors_of(kind: str, obj: dict, *, old: dict | None = None, defaulted: bool = True) -> Invalid:
    if defaulted:
        obj = default(kind, obj, config=CFG)
    with pytest.raises(Invalid) as info:
        validate(kind, obj, old=old)
    return info.value


def messages(err: Invalid) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in err.causes]


# --- defaults -----------------------------------------------------------------------------

def test_nginx_deployment_defaults_match_kubectl_get_yaml():
    d = default("Deployment", nginx_deployment(), config=CFG)
    spec = d["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (1, 10, 600)
    tmpl = spec["template"]
    assert tmpl["metadata"] == {"labels": {"app": "web"}, "creationTimestamp": None}
    assert tmpl["spec"] == {
        "containers": [{"name": "nginx", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"}],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "terminationGracePeriodSeconds": 30}
    validate("Deployment", d)


def test_default_returns_a_new_dict_and_keeps_the_input():
    raw = nginx_deployment()
    before = repr(raw)
    out = default("Deployment", raw, config=CFG)
    assert repr(raw) == before and out is not raw


def test_replicas_zero_is_kept_and_replicaset_defaults():
    assert default("Deployment", nginx_deployment(replicas=0), config=CFG)["spec"]["replicas"] == 0
    rs = nginx_deployment()
    rs["kind"] = "ReplicaSet"
    del rs["spec"]["replicas"]
    out = default("ReplicaSet", rs, config=CFG)
    assert out["spec"]["replicas"] == 1 and "strategy" not in out["spec"]
    assert out["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


@pytest.mark.parametrize("image,policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/nginx", "Always"), ("registry.k8s.io/pause:3.9", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    p = default("Pod", pod(containers=[{"name": "c", "image": image}]), config=CFG)
    assert p["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_pod_gets_admission_defaults():
    p = default("Pod", pod(), config=CFG)
    spec = p["spec"]
    assert spec["enableServiceLinks"] is True
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]
    vol = spec["volumes"][0]
    assert vol["name"].startswith("kube-api-access-") and len(vol["name"]) == len("kube-api-access-") + 5
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": vol["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert p["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    # Deterministic: the same pod gets the same volume name.
    assert default("Pod", pod(), config=CFG)["spec"]["volumes"][0]["name"] == vol["name"]
    validate("Pod", p)


def test_existing_toleration_for_any_key_suppresses_the_defaults():
    p = default("Pod", pod(tolerations=[{"operator": "Exists"}]), config=CFG)
    assert p["spec"]["tolerations"] == [{"operator": "Exists"}]


def test_qos_class_from_resources():
    guaranteed = pod(containers=[{"name": "c", "image": "nginx:1", "resources": {
        "limits": {"cpu": "100m", "memory": "64Mi"}}}])
    p = default("Pod", guaranteed, config=CFG)
    assert p["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "64Mi"}
    assert p["status"]["qosClass"] == "Guaranteed"
    burstable = pod(containers=[{"name": "c", "image": "nginx:1", "resources": {"requests": {"cpu": "0.1"}}}])
    assert default("Pod", burstable, config=CFG)["status"]["qosClass"] == "Burstable"


def test_pod_with_dns_policy_none_keeps_its_dns_config():
    cfg = {"nameservers": ["1.1.1.1"], "searches": ["ns1.svc.cluster-domain.example"],
           "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}
    p = default("Pod", pod(dnsPolicy="None", dnsConfig=cfg), config=CFG)
    assert p["spec"]["dnsPolicy"] == "None" and p["spec"]["dnsConfig"] == cfg
    validate("Pod", p)


def test_probe_defaults_show_in_describe():
    c = {"name": "web", "image": "nginx:1", "readinessProbe": {"httpGet": {"port": 80}}}
    probe = default("Pod", pod(containers=[c]), config=CFG)["spec"]["containers"][0]["readinessProbe"]
    assert probe == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                     "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}


def test_cluster_ip_service_defaults():
    s = default("Service", service(), config=CFG)
    assert s["spec"] == {"selector": {"app": "web"},
                         "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                         "type": "ClusterIP", "sessionAffinity": "None", "internalTrafficPolicy": "Cluster",
                         "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}
    assert "clusterIP" not in s["spec"]          # a controller allocates it
    assert s["status"] == {"loadBalancer": {}}


def test_headless_service_defaults():
    s = default("Service", service(clusterIP="None"), config=CFG)
    assert s["spec"]["clusterIP"] == "None" and s["spec"]["clusterIPs"] == ["None"]
    assert s["spec"]["ipFamilies"] == ["IPv4"] and s["spec"]["ipFamilyPolicy"] == "SingleStack"
    validate("Service", s)


def test_headless_service_without_selector_is_dual_stack_even_on_single_stack():
    # alloc.go initIPFamilyFields: "Special-case: headless + selectorless defaults to dual."
    s = default("Service", service(clusterIP="None", selector=None, ports=[]), config=CFG)
    assert s["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert s["spec"]["ipFamilies"] == ["IPv4", "IPv6"]
    validate("Service", s)


def test_node_port_service_gets_external_traffic_policy():
    s = default("Service", service(type="NodePort"), config=CFG)
    assert s["spec"]["externalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in default("Service", service(), config=CFG)["spec"]


def test_named_target_port_is_kept():
    s = default("Service", service(ports=[{"name": "http", "port": 80, "targetPort": "http"}]), config=CFG)
    assert s["spec"]["ports"][0]["targetPort"] == "http"


def test_update_without_cluster_ip_keeps_the_allocated_one():
    old = default("Service", service(clusterIP="10.0.0.42"), config=CFG)
    new = default("Service", service(), config=CFG, old=old)
    assert (new["spec"]["clusterIP"], new["spec"]["clusterIPs"]) == ("10.0.0.42", ["10.0.0.42"])
    validate("Service", new, old=old)


def test_namespace_and_endpointslice_defaults():
    ns = default("Namespace", {"metadata": {"name": "test"}}, config=CFG)
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "test"}
    assert ns["status"] == {"phase": "Active"}
    es = default("EndpointSlice", {"metadata": {"name": "web-svc-abcde"}, "addressType": "IPv4",
                                   "ports": [{"port": 80}], "endpoints": []}, config=CFG)
    assert es["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]
    ep = default("Endpoints", {"metadata": {"name": "x"}, "subsets": [{"ports": [{"port": 53}]}]}, config=CFG)
    assert ep["subsets"][0]["ports"] == [{"port": 53, "protocol": "TCP"}]


# --- the Status body ---------------------------------------------------------------------

def test_status_body_for_a_deployment_without_selector():
    d = nginx_deployment()
    del d["spec"]["selector"]
    d["spec"]["template"]["metadata"]["labels"] = {"app": "x"}
    err = errors_of("Deployment", d)
    assert err.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Deployment.apps "nginx-deployment" is invalid: [spec.selector: Required value, '
                   'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: '
                   '`selector` does not match template `labels`]',
        "reason": "Invalid",
        "details": {"name": "nginx-deployment", "group": "apps", "kind": "Deployment", "causes": [
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.selector"},
            {"reason": "FieldValueInvalid",
             "message": 'Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
             "field": "spec.template.metadata.labels"}]},
        "code": 422}


def test_single_cause_has_no_brackets_and_core_kinds_no_group():
    err = errors_of("Pod", pod(containers=[{"name": "c"}]))
    status = err.status()
    assert status["message"] == 'Pod "client" is invalid: spec.containers[0].image: Required value'
    assert "group" not in status["details"]
    assert str(err) == status["message"]


def test_repeated_messages_are_reported_once_in_the_message_but_kept_as_causes():
    err = Invalid("Pod", "p", [{"reason": "FieldValueRequired", "message": "Required value", "field": "a"}] * 2)
    assert err.status()["message"] == 'Pod "p" is invalid: a: Required value'
    assert len(err.status()["details"]["causes"]) == 2


# --- names and labels --------------------------------------------------------------------

def test_missing_name():
    p = pod()
    del p["metadata"]["name"]
    err = errors_of("Pod", p)
    assert messages(err) == ["metadata.name: Required value: name or generateName is required"]
    assert err.status()["message"].startswith('Pod "" is invalid')


def test_generate_name_is_enough_and_is_validated_as_a_prefix():
    p = pod()
    p["metadata"] = {"generateName": "web-", "namespace": "default"}
    validate("Pod", default("Pod", p, config=CFG))    # named by the store later
    p["metadata"]["generateName"] = "Web-"
    assert messages(errors_of("Pod", p)) == [
        f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_MSG}']


def test_invalid_pod_name_is_a_subdomain_error():
    p = pod()
    p["metadata"]["name"] = "My_Pod"
    assert messages(errors_of("Pod", p)) == [f'metadata.name: Invalid value: "My_Pod": {SUBDOMAIN_MSG}']


def test_service_names_are_dns1035_labels():
    s = service()
    s["metadata"]["name"] = "1web"
    assert messages(errors_of("Service", s)) == [f'metadata.name: Invalid value: "1web": {DNS1035_MSG}']
    assert valid_name_message("Service", "web.svc") == [DNS1035_MSG]


def test_namespace_name_with_dots():
    err = errors_of("Namespace", {"metadata": {"name": "my.ns"}})
    assert messages(err) == ['metadata.name: Invalid value: "my.ns": must not contain dots']
    assert valid_name_message("Namespace", "Test") == [LABEL_MSG]
    assert valid_name_message("Namespace", "a" * 64) == ["must be no more than 63 characters"]
    assert valid_name_message("Deployment", "web.v2") == []


def test_label_key_and_value():
    p = pod()
    p["metadata"]["labels"] = {"app": "web server", "-bad": "x"}
    assert messages(errors_of("Pod", p)) == [
        'metadata.labels: Invalid value: "web server": a valid label must be an empty string or consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        'metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters, '
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
        "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]


# --- pods ----------------------------------------------------------------------------------

def test_pod_without_containers():
    assert messages(errors_of("Pod", pod(containers=[]))) == ["spec.containers: Required value"]


def test_container_name_image_duplicates_and_ports():
    err = errors_of("Pod", pod(containers=[
        {"name": "Web", "image": "nginx:1", "ports": [{"containerPort": 70000}, {"containerPort": 0}]},
        {"name": "side", "image": ""},
        {"name": "side", "image": "busybox:1", "ports": [{"name": "http", "containerPort": 80, "protocol": "HTTP"}]},
    ]))
    assert messages(err) == [
        f'spec.containers[0].name: Invalid value: "Web": {LABEL_MSG}',
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].ports[1].containerPort: Required value",
        "spec.containers[1].image: Required value",
        'spec.containers[2].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.containers[2].name: Duplicate value: "side"',
    ]
    assert {c["reason"] for c in err.causes} == {
        "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported", "FieldValueDuplicate"}


def test_dns_policy_typo_lists_supported_values():
    err = errors_of("Pod", pod(dnsPolicy="ClusterFirs"))
    assert messages(err) == ['spec.dnsPolicy: Unsupported value: "ClusterFirs": supported values: '
                             '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']
    assert err.causes[0]["reason"] == "FieldValueNotSupported"


def test_restart_policy_typo():
    assert messages(errors_of("Pod", pod(restartPolicy="always"))) == [
        'spec.restartPolicy: Unsupported value: "always": supported values: "Always", "OnFailure", "Never"']


def test_dns_policy_none_needs_nameservers():
    assert messages(errors_of("Pod", pod(dnsPolicy="None"))) == [
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"]
    assert messages(errors_of("Pod", pod(dnsPolicy="None", dnsConfig={"searches": ["a.b"]}))) == [
        "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when "
        "`dnsPolicy` is None"]


def test_dns_config_limits():
    cfg = {"nameservers": ["1.1.1.1", "8.8.8.8", "9.9.9.9", "dns.example"],
           "searches": [f"s{i}.example" for i in range(33)] + ["Bad_Domain."],
           "options": [{"value": "5"}]}
    msgs = messages(errors_of("Pod", pod(dnsConfig=cfg)))
    assert msgs[0] == ('spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", '
                       '"dns.example"}: must not have more than 3 nameservers')
    assert msgs[1] == ('spec.dnsConfig.nameservers[3]: Invalid value: "dns.example": must be a valid IP address, '
                       "(e.g. 10.9.8.7 or 2001:db8::ffff)")
    assert msgs[2].startswith('spec.dnsConfig.searches: Invalid value: []string{"s0.example", ')
    assert msgs[2].endswith('"Bad_Domain."}: must not have more than 32 search paths')
    assert msgs[3] == f'spec.dnsConfig.searches[33]: Invalid value: "Bad_Domain": {SUBDOMAIN_MSG}'
    assert msgs[4] == "spec.dnsConfig.options[0]: Required value: Option.Name must not be empty"
    assert len(msgs) == 5


def test_env_and_volume_mount_errors():
    c = {"name": "c", "image": "busybox:1", "env": [{"name": "1ST"}, {"name": ""}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    assert messages(errors_of("Pod", pod(containers=[c]))) == [
        "spec.containers[0].env[0].name: Invalid value: \"1ST\": a valid environment variable name must "
        "consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit "
        "(e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
        "'[-._a-zA-Z][-._a-zA-Z0-9]*')",
        "spec.containers[0].env[1].name: Required value",
        'spec.containers[0].volumeMounts[0].name: Not found: "data"']


def test_hostname_and_subdomain_are_labels():
    assert messages(errors_of("Pod", pod(hostname="web.0", subdomain="Web"))) == [
        'spec.hostname: Invalid value: "web.0": must not contain dots',
        f'spec.subdomain: Invalid value: "Web": {LABEL_MSG}']


def test_pod_update_may_change_only_images():
    old = default("Pod", pod(), config=CFG)
    new = default("Pod", pod(), config=CFG, old=old)
    new["spec"] = dict(old["spec"], dnsPolicy="Default")
    err = errors_of("Pod", new, old=old, defaulted=False)
    assert err.causes[0]["field"] == "spec" and err.causes[0]["reason"] == "FieldValueForbidden"
    assert err.causes[0]["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
        "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)\n")
    assert '- \tDNSPolicy: "ClusterFirst",\n+ \tDNSPolicy: "Default",\n' in err.causes[0]["message"]
    removed = default("Pod", pod(), config=CFG, old=old)
    removed["spec"] = dict(old["spec"], tolerations=[])
    assert messages(errors_of("Pod", removed, old=old, defaulted=False)) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
    image_change = default("Pod", pod(), config=CFG, old=old)
    image_change["spec"] = dict(old["spec"], containers=[dict(old["spec"]["containers"][0], image="busybox:1.37")])
    validate("Pod", image_change, old=old)


# --- deployments ---------------------------------------------------------------------------

def test_template_labels_must_match_selector():
    d = nginx_deployment()
    d["spec"]["template"]["metadata"]["labels"] = {"app": "webb", "tier": "front"}
    assert messages(errors_of("Deployment", d)) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"webb", "tier":"front"}: '
        "`selector` does not match template `labels`"]


def test_negative_replicas_and_wrong_restart_policy():
    d = nginx_deployment(replicas=-1)
    d["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(errors_of("Deployment", d)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']


def test_template_spec_is_validated_like_a_pod():
    d = nginx_deployment()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    d["spec"]["template"]["spec"]["dnsPolicy"] = "Custom"
    assert messages(errors_of("Deployment", d)) == [
        "spec.template.spec.containers[0].image: Required value",
        'spec.template.spec.dnsPolicy: Unsupported value: "Custom": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']


def test_empty_selector_and_bad_strategy():
    d = nginx_deployment(selector={}, strategy={"type": "BlueGreen"})
    msgs = messages(errors_of("Deployment", d))
    assert msgs == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", '
        'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"']


def test_rolling_update_bounds():
    d = nginx_deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}})
    assert messages(errors_of("Deployment", d)) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
        "may not be 0 when `maxSurge` is 0"]
    d = nginx_deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25"}})
    assert messages(errors_of("Deployment", d)) == [
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"25"}: '
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
        "regex used for validation is '[0-9]+%')"]


def test_deployment_selector_is_immutable():
    old = default("Deployment", nginx_deployment(), config=CFG)
    new = nginx_deployment(selector={"matchLabels": {"app": "web2"}})
    new["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    assert messages(errors_of("Deployment", new, old=old)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    validate("Deployment", default("Deployment", nginx_deployment(replicas=3), config=CFG), old=old)


def test_selector_expressions():
    d = nginx_deployment(selector={"matchExpressions": [{"key": "app", "operator": "In"},
                                                        {"key": "tier", "operator": "Has"}]})
    assert messages(errors_of("Deployment", d)) == [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is "
        "'In' or 'NotIn'",
        'spec.selector.matchExpressions[1].operator: Invalid value: "Has": not a valid selector operator',
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`"]


# --- services ------------------------------------------------------------------------------

def test_service_needs_ports_unless_headless():
    assert messages(errors_of("Service", service(ports=[]))) == ["spec.ports: Required value"]
    validate("Service", default("Service", service(clusterIP="None", ports=[]), config=CFG))


def test_service_port_errors():
    s = service(ports=[{"port": 80}, {"name": "http", "port": 0}, {"name": "http", "port": 443,
                                                                    "targetPort": "https_port"}])
    assert messages(errors_of("Service", s)) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[2].name: Duplicate value: "http"',
        'spec.ports[2].targetPort: Invalid value: "https_port": must contain only alpha-numeric characters '
        "(a-z, 0-9), and hyphens (-)"]


def test_duplicate_service_port_and_protocol():
    s = service(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}])
    assert messages(errors_of("Service", s)) == [
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}']


def test_service_type_typo():
    assert messages(errors_of("Service", service(type="Headless"))) == [
        'spec.type: Unsupported value: "Headless": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"']


def test_cluster_ip_must_be_none_or_an_ip():
    err = errors_of("Service", service(clusterIP="none", ports=[]))
    # The allocator's pre-validation stops at the clusterIPs error (spec.ports is not reached).
    assert messages(err) == ['spec.clusterIPs[0]: Invalid value: "none": must be a valid IP address, '
                             "(e.g. 10.9.8.7 or 2001:db8::ffff)"]
    validate("Service", default("Service", service(clusterIP="10.0.0.42"), config=CFG))


def test_node_port_cannot_be_headless():
    assert messages(errors_of("Service", service(type="NodePort", clusterIP="None"))) == [
        "spec.clusterIP: Invalid value: \"None\": may not be set to 'None' for NodePort services"]


def test_cluster_ip_cannot_change_on_update():
    # What `kubectl apply` of `clusterIP: None` over a ClusterIP Service gets back.
    old = default("Service", service(clusterIP="10.0.0.42"), config=CFG)
    new = default("Service", service(clusterIP="None", clusterIPs=["10.0.0.42"]), config=CFG, old=old)
    err = errors_of("Service", new, old=old, defaulted=False)
    assert messages(err) == ['spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set']
    assert err.status()["message"] == ('Service "web-svc" is invalid: spec.clusterIPs[0]: Invalid value: '
                                       '[]string{"None"}: may not change once set')


def test_external_name_service():
    s = default("Service", service(type="ExternalName", externalName="example.com.", selector=None, ports=[]),
                config=CFG)
    assert "ipFamilies" not in s["spec"] and "internalTrafficPolicy" not in s["spec"]
    validate("Service", s)
    bad = service(type="ExternalName", externalName="", selector=None, ports=[])
    assert messages(errors_of("Service", bad)) == ["spec.externalName: Required value"]


# --- endpoint slices -----------------------------------------------------------------------

def test_endpointslice_address_type_required():
    es = {"metadata": {"name": "web-svc-abcde", "namespace": "default"}, "endpoints": [], "ports": []}
    err = errors_of("EndpointSlice", es)
    assert messages(err) == ["addressType: Required value"]
    assert err.status()["details"]["group"] == "discovery.k8s.io"
    es["addressType"] = "IPv4"
    es["endpoints"] = [{"addresses": ["10.10.100.37"]}]
    validate("EndpointSlice", default("EndpointSlice", es, config=CFG))
