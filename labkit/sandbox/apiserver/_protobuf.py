"""Kubernetes protobuf request bodies, decoded to the JSON object the API accepts.

kubectl 1.32+ sends the objects of its `create namespace|deployment|configmap|service`
generators as `application/vnd.kubernetes.protobuf` and does not retry with JSON.
The envelope (k8s.io/apimachinery/pkg/runtime/serializer/protobuf) is the magic
`k8s\\x00` then a `runtime.Unknown`: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the
object's own message), 3 contentEncoding, 4 contentType. Field numbers come from
the generated.proto files of k8s.io/api (core/v1, apps/v1) and apimachinery (meta/v1,
util/intstr, api/resource).

The Go encoder writes every non-pointer field, zero or not, so a zero scalar means
"unset" and is dropped (as `omitempty` drops it from kubectl's JSON); pointer
fields (flag "p") keep their zero, because `replicas: 0` is not "unset". Messages
that are present stay, even empty (`resources: {}`, `status: {}`), as in kubectl's JSON.
Fields this table does not know are skipped and logged at debug level.
"""
from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone

from ..apis import _errors

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

_log = logging.getLogger(__name__)

# field spec: (json name, type, flags). Types: string bool int32 int64 bytes, a message
# name, "map:<value type>", and the special messages Time, Quantity, IntOrString.
# Flags: "r" repeated, "p" pointer (zero kept), "i" inlined (embedded struct: its
# fields go into the parent, as Go's JSON encoder flattens them).
_S, _B, _I32, _I64 = "string", "bool", "int32", "int64"
_MSTR = "map:string"

SCHEMA: dict[str, dict[int, tuple[str, str, str]]] = {
    # --- runtime ---
    "Unknown": {1: ("typeMeta", "TypeMeta", ""), 2: ("raw", "raw", ""),
                3: ("contentEncoding", _S, ""), 4: ("contentType", _S, "")},
    "TypeMeta": {1: ("apiVersion", _S, ""), 2: ("kind", _S, "")},
    # --- meta/v1 ---
    "ObjectMeta": {1: ("name", _S, ""), 2: ("generateName", _S, ""), 3: ("namespace", _S, ""),
                   4: ("selfLink", _S, ""), 5: ("uid", _S, ""), 6: ("resourceVersion", _S, ""),
                   7: ("generation", _I64, ""), 8: ("creationTimestamp", "Time", ""),
                   9: ("deletionTimestamp", "Time", "p"),
                   10: ("deletionGracePeriodSeconds", _I64, "p"),
                   11: ("labels", _MSTR, ""), 12: ("annotations", _MSTR, ""),
                   13: ("ownerReferences", "OwnerReference", "r"), 14: ("finalizers", _S, "r"),
                   17: ("managedFields", "ManagedFieldsEntry", "r")},
    "OwnerReference": {1: ("kind", _S, ""), 3: ("name", _S, ""), 4: ("uid", _S, ""),
                       5: ("apiVersion", _S, ""), 6: ("controller", _B, "p"),
                       7: ("blockOwnerDeletion", _B, "p")},
    "ManagedFieldsEntry": {1: ("manager", _S, ""), 2: ("operation", _S, ""), 3: ("apiVersion", _S, ""),
                           4: ("time", "Time", "p"), 6: ("fieldsType", _S, ""),
                           7: ("fieldsV1", "FieldsV1", "p"), 8: ("subresource", _S, "")},
    "FieldsV1": {1: ("Raw", "json", "")},
    "LabelSelector": {1: ("matchLabels", _MSTR, ""),
                      2: ("matchExpressions", "LabelSelectorRequirement", "r")},
    "LabelSelectorRequirement": {1: ("key", _S, ""), 2: ("operator", _S, ""), 3: ("values", _S, "r")},
    "Condition": {1: ("type", _S, ""), 2: ("status", _S, ""), 3: ("observedGeneration", _I64, ""),
                  4: ("lastTransitionTime", "Time", ""), 5: ("reason", _S, ""), 6: ("message", _S, "")},
    # --- core/v1: the kinds ---
    "Namespace": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "NamespaceSpec", ""),
                  3: ("status", "NamespaceStatus", "")},
    "NamespaceSpec": {1: ("finalizers", _S, "r")},
    "NamespaceStatus": {1: ("phase", _S, ""), 2: ("conditions", "NamespaceCondition", "r")},
    "NamespaceCondition": {1: ("type", _S, ""), 2: ("status", _S, ""), 4: ("lastTransitionTime", "Time", ""),
                           5: ("reason", _S, ""), 6: ("message", _S, "")},
    "ConfigMap": {1: ("metadata", "ObjectMeta", ""), 2: ("data", _MSTR, ""),
                  3: ("binaryData", "map:bytes", ""), 4: ("immutable", _B, "p")},
    "Job": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "JobSpec", "")},
    "JobSpec": {1: ("parallelism", _I32, "p"), 2: ("completions", _I32, "p"),
                3: ("activeDeadlineSeconds", _I64, "p"), 4: ("selector", "LabelSelector", "p"),
                5: ("manualSelector", _B, "p"), 6: ("template", "PodTemplateSpec", ""),
                7: ("backoffLimit", _I32, "p"), 8: ("ttlSecondsAfterFinished", _I32, "p"),
                9: ("completionMode", _S, "p"), 10: ("suspend", _B, "p"),
                12: ("backoffLimitPerIndex", _I32, "p"), 13: ("maxFailedIndexes", _I32, "p"),
                14: ("podReplacementPolicy", _S, "p"), 15: ("managedBy", _S, "p")},
    "CronJob": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "CronJobSpec", "")},
    "CronJobSpec": {1: ("schedule", _S, ""), 2: ("startingDeadlineSeconds", _I64, "p"),
                    3: ("concurrencyPolicy", _S, ""), 4: ("suspend", _B, "p"),
                    5: ("jobTemplate", "JobTemplateSpec", ""), 6: ("successfulJobsHistoryLimit", _I32, "p"),
                    7: ("failedJobsHistoryLimit", _I32, "p"), 8: ("timeZone", _S, "p")},
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "JobSpec", "")},
    "Secret": {1: ("metadata", "ObjectMeta", ""), 2: ("data", "map:bytes", ""), 3: ("type", _S, ""),
               4: ("stringData", _MSTR, ""), 5: ("immutable", _B, "p")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", ""), 2: ("secrets", "ObjectReference", "r"),
                       3: ("imagePullSecrets", "LocalObjectReference", "r"),
                       4: ("automountServiceAccountToken", _B, "p")},
    "ObjectReference": {1: ("kind", _S, ""), 2: ("namespace", _S, ""), 3: ("name", _S, ""),
                        4: ("uid", _S, ""), 5: ("apiVersion", _S, ""), 6: ("resourceVersion", _S, ""),
                        7: ("fieldPath", _S, "")},
    "LocalObjectReference": {1: ("name", _S, "")},
    "Service": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "ServiceSpec", ""),
                3: ("status", "ServiceStatus", "")},
    "ServiceSpec": {1: ("ports", "ServicePort", "r"), 2: ("selector", _MSTR, ""), 3: ("clusterIP", _S, ""),
                    4: ("type", _S, ""), 5: ("externalIPs", _S, "r"), 7: ("sessionAffinity", _S, ""),
                    8: ("loadBalancerIP", _S, ""), 9: ("loadBalancerSourceRanges", _S, "r"),
                    10: ("externalName", _S, ""), 11: ("externalTrafficPolicy", _S, ""),
                    12: ("healthCheckNodePort", _I32, ""), 13: ("publishNotReadyAddresses", _B, ""),
                    14: ("sessionAffinityConfig", "SessionAffinityConfig", "p"),
                    17: ("ipFamilyPolicy", _S, "p"), 18: ("clusterIPs", _S, "r"),
                    19: ("ipFamilies", _S, "r"), 20: ("allocateLoadBalancerNodePorts", _B, "p"),
                    21: ("loadBalancerClass", _S, "p"), 22: ("internalTrafficPolicy", _S, "p"),
                    23: ("trafficDistribution", _S, "p")},
    "ServicePort": {1: ("name", _S, ""), 2: ("protocol", _S, ""), 3: ("port", _I32, ""),
                    4: ("targetPort", "IntOrString", ""), 5: ("nodePort", _I32, ""),
                    6: ("appProtocol", _S, "p")},
    "SessionAffinityConfig": {1: ("clientIP", "ClientIPConfig", "p")},
    "ClientIPConfig": {1: ("timeoutSeconds", _I32, "p")},
    "ServiceStatus": {1: ("loadBalancer", "LoadBalancerStatus", ""), 2: ("conditions", "Condition", "r")},
    "LoadBalancerStatus": {1: ("ingress", "LoadBalancerIngress", "r")},
    "LoadBalancerIngress": {1: ("ip", _S, ""), 2: ("hostname", _S, ""), 3: ("ipMode", _S, "p")},
    "Pod": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "PodSpec", ""), 3: ("status", "PodStatus", "")},
    "PodStatus": {1: ("phase", _S, "")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "PodSpec", "")},
    "PodSpec": {1: ("volumes", "Volume", "r"), 2: ("containers", "Container", "r"),
                3: ("restartPolicy", _S, ""), 4: ("terminationGracePeriodSeconds", _I64, "p"),
                5: ("activeDeadlineSeconds", _I64, "p"), 6: ("dnsPolicy", _S, ""),
                7: ("nodeSelector", _MSTR, ""), 8: ("serviceAccountName", _S, ""),
                9: ("serviceAccount", _S, ""), 10: ("nodeName", _S, ""), 11: ("hostNetwork", _B, ""),
                12: ("hostPID", _B, ""), 13: ("hostIPC", _B, ""),
                14: ("securityContext", "PodSecurityContext", "p"),
                15: ("imagePullSecrets", "LocalObjectReference", "r"), 16: ("hostname", _S, ""),
                17: ("subdomain", _S, ""), 19: ("schedulerName", _S, ""),
                20: ("initContainers", "Container", "r"), 21: ("automountServiceAccountToken", _B, "p"),
                22: ("tolerations", "Toleration", "r"), 23: ("hostAliases", "HostAlias", "r"),
                24: ("priorityClassName", _S, ""), 25: ("priority", _I32, "p"),
                26: ("dnsConfig", "PodDNSConfig", "p"), 27: ("shareProcessNamespace", _B, "p"),
                28: ("readinessGates", "PodReadinessGate", "r"), 29: ("runtimeClassName", _S, "p"),
                30: ("enableServiceLinks", _B, "p"), 31: ("preemptionPolicy", _S, "p"),
                32: ("overhead", "map:Quantity", ""), 35: ("setHostnameAsFQDN", _B, "p"),
                37: ("hostUsers", _B, "p")},
    "PodSecurityContext": {1: ("seLinuxOptions", "SELinuxOptions", "p"), 2: ("runAsUser", _I64, "p"),
                           3: ("runAsNonRoot", _B, "p"), 4: ("supplementalGroups", _I64, "r"),
                           5: ("fsGroup", _I64, "p"), 6: ("runAsGroup", _I64, "p")},
    "SELinuxOptions": {1: ("user", _S, ""), 2: ("role", _S, ""), 3: ("type", _S, ""), 4: ("level", _S, "")},
    "Toleration": {1: ("key", _S, ""), 2: ("operator", _S, ""), 3: ("value", _S, ""),
                   4: ("effect", _S, ""), 5: ("tolerationSeconds", _I64, "p")},
    "HostAlias": {1: ("ip", _S, ""), 2: ("hostnames", _S, "r")},
    "PodDNSConfig": {1: ("nameservers", _S, "r"), 2: ("searches", _S, "r"),
                     3: ("options", "PodDNSConfigOption", "r")},
    "PodDNSConfigOption": {1: ("name", _S, ""), 2: ("value", _S, "p")},
    "PodReadinessGate": {1: ("conditionType", _S, "")},
    "Container": {1: ("name", _S, ""), 2: ("image", _S, ""), 3: ("command", _S, "r"), 4: ("args", _S, "r"),
                  5: ("workingDir", _S, ""), 6: ("ports", "ContainerPort", "r"), 7: ("env", "EnvVar", "r"),
                  8: ("resources", "ResourceRequirements", ""), 9: ("volumeMounts", "VolumeMount", "r"),
                  10: ("livenessProbe", "Probe", "p"), 11: ("readinessProbe", "Probe", "p"),
                  13: ("terminationMessagePath", _S, ""), 14: ("imagePullPolicy", _S, ""),
                  15: ("securityContext", "SecurityContext", "p"), 16: ("stdin", _B, ""),
                  17: ("stdinOnce", _B, ""), 18: ("tty", _B, ""), 19: ("envFrom", "EnvFromSource", "r"),
                  20: ("terminationMessagePolicy", _S, ""), 22: ("startupProbe", "Probe", "p"),
                  24: ("restartPolicy", _S, "p")},
    "ContainerPort": {1: ("name", _S, ""), 2: ("hostPort", _I32, ""), 3: ("containerPort", _I32, ""),
                      4: ("protocol", _S, ""), 5: ("hostIP", _S, "")},
    "EnvVar": {1: ("name", _S, ""), 2: ("value", _S, ""), 3: ("valueFrom", "EnvVarSource", "p")},
    "EnvVarSource": {1: ("fieldRef", "ObjectFieldSelector", "p"),
                     2: ("resourceFieldRef", "ResourceFieldSelector", "p"),
                     3: ("configMapKeyRef", "ConfigMapKeySelector", "p"),
                     4: ("secretKeyRef", "SecretKeySelector", "p")},
    "ObjectFieldSelector": {1: ("apiVersion", _S, ""), 2: ("fieldPath", _S, "")},
    "ResourceFieldSelector": {1: ("containerName", _S, ""), 2: ("resource", _S, ""),
                              3: ("divisor", "Quantity", "")},
    "ConfigMapKeySelector": {1: ("", "LocalObjectReference", "i"), 2: ("key", _S, ""),
                             3: ("optional", _B, "p")},
    "SecretKeySelector": {1: ("", "LocalObjectReference", "i"), 2: ("key", _S, ""),
                          3: ("optional", _B, "p")},
    "EnvFromSource": {1: ("prefix", _S, ""), 2: ("configMapRef", "ConfigMapEnvSource", "p"),
                      3: ("secretRef", "SecretEnvSource", "p")},
    "ConfigMapEnvSource": {1: ("", "LocalObjectReference", "i"), 2: ("optional", _B, "p")},
    "SecretEnvSource": {1: ("", "LocalObjectReference", "i"), 2: ("optional", _B, "p")},
    "ResourceRequirements": {1: ("limits", "map:Quantity", ""), 2: ("requests", "map:Quantity", ""),
                             3: ("claims", "ResourceClaim", "r")},
    "ResourceClaim": {1: ("name", _S, ""), 2: ("request", _S, "")},
    "VolumeMount": {1: ("name", _S, ""), 2: ("readOnly", _B, ""), 3: ("mountPath", _S, ""),
                    4: ("subPath", _S, ""), 5: ("mountPropagation", _S, "p"), 6: ("subPathExpr", _S, "")},
    "SecurityContext": {1: ("capabilities", "Capabilities", "p"), 2: ("privileged", _B, "p"),
                        3: ("seLinuxOptions", "SELinuxOptions", "p"), 4: ("runAsUser", _I64, "p"),
                        5: ("runAsNonRoot", _B, "p"), 6: ("readOnlyRootFilesystem", _B, "p"),
                        7: ("allowPrivilegeEscalation", _B, "p"), 8: ("runAsGroup", _I64, "p")},
    "Capabilities": {1: ("add", _S, "r"), 2: ("drop", _S, "r")},
    "Probe": {1: ("", "ProbeHandler", "i"), 2: ("initialDelaySeconds", _I32, ""),
              3: ("timeoutSeconds", _I32, ""), 4: ("periodSeconds", _I32, ""),
              5: ("successThreshold", _I32, ""), 6: ("failureThreshold", _I32, ""),
              7: ("terminationGracePeriodSeconds", _I64, "p")},
    "ProbeHandler": {1: ("exec", "ExecAction", "p"), 2: ("httpGet", "HTTPGetAction", "p"),
                     3: ("tcpSocket", "TCPSocketAction", "p")},
    "ExecAction": {1: ("command", _S, "r")},
    "HTTPGetAction": {1: ("path", _S, ""), 2: ("port", "IntOrString", ""), 3: ("host", _S, ""),
                      4: ("scheme", _S, ""), 5: ("httpHeaders", "HTTPHeader", "r")},
    "HTTPHeader": {1: ("name", _S, ""), 2: ("value", _S, "")},
    "TCPSocketAction": {1: ("port", "IntOrString", ""), 2: ("host", _S, "")},
    "Volume": {1: ("name", _S, ""), 2: ("", "VolumeSource", "i")},
    "VolumeSource": {1: ("hostPath", "HostPathVolumeSource", "p"), 2: ("emptyDir", "EmptyDirVolumeSource", "p"),
                     6: ("secret", "SecretVolumeSource", "p"),
                     10: ("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", "p"),
                     19: ("configMap", "ConfigMapVolumeSource", "p")},
    "HostPathVolumeSource": {1: ("path", _S, ""), 2: ("type", _S, "p")},
    "EmptyDirVolumeSource": {1: ("medium", _S, ""), 2: ("sizeLimit", "Quantity", "p")},
    "SecretVolumeSource": {1: ("secretName", _S, ""), 2: ("items", "KeyToPath", "r"),
                           3: ("defaultMode", _I32, "p"), 4: ("optional", _B, "p")},
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", _S, ""), 2: ("readOnly", _B, "")},
    "ConfigMapVolumeSource": {1: ("", "LocalObjectReference", "i"), 2: ("items", "KeyToPath", "r"),
                              3: ("defaultMode", _I32, "p"), 4: ("optional", _B, "p")},
    "KeyToPath": {1: ("key", _S, ""), 2: ("path", _S, ""), 3: ("mode", _I32, "p")},
    # --- apps/v1 ---
    "Deployment": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "DeploymentSpec", ""),
                   3: ("status", "DeploymentStatus", "")},
    "DeploymentSpec": {1: ("replicas", _I32, "p"), 2: ("selector", "LabelSelector", "p"),
                       3: ("template", "PodTemplateSpec", ""), 4: ("strategy", "DeploymentStrategy", ""),
                       5: ("minReadySeconds", _I32, ""), 6: ("revisionHistoryLimit", _I32, "p"),
                       7: ("paused", _B, ""), 9: ("progressDeadlineSeconds", _I32, "p")},
    "DeploymentStrategy": {1: ("type", _S, ""), 2: ("rollingUpdate", "RollingUpdateDeployment", "p")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "IntOrString", "p"), 2: ("maxSurge", "IntOrString", "p")},
    "DeploymentStatus": {1: ("observedGeneration", _I64, ""), 2: ("replicas", _I32, ""),
                         3: ("updatedReplicas", _I32, ""), 4: ("availableReplicas", _I32, ""),
                         5: ("unavailableReplicas", _I32, ""), 7: ("readyReplicas", _I32, ""),
                         8: ("collisionCount", _I32, "p"), 9: ("terminatingReplicas", _I32, "p")},
    "ReplicaSet": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "ReplicaSetSpec", ""),
                   3: ("status", "ReplicaSetStatus", "")},
    "ReplicaSetSpec": {1: ("replicas", _I32, "p"), 2: ("selector", "LabelSelector", "p"),
                       3: ("template", "PodTemplateSpec", ""), 4: ("minReadySeconds", _I32, "")},
    "ReplicaSetStatus": {1: ("replicas", _I32, ""), 2: ("fullyLabeledReplicas", _I32, ""),
                         3: ("observedGeneration", _I64, ""), 4: ("readyReplicas", _I32, ""),
                         5: ("availableReplicas", _I32, "")},
    # --- rbac/v1 ---
    "Role": {1: ("metadata", "ObjectMeta", ""), 2: ("rules", "PolicyRule", "r")},
    "ClusterRole": {1: ("metadata", "ObjectMeta", ""), 2: ("rules", "PolicyRule", "r"),
                    3: ("aggregationRule", "AggregationRule", "p")},
    "PolicyRule": {1: ("verbs", _S, "r"), 2: ("apiGroups", _S, "r"), 3: ("resources", _S, "r"),
                   4: ("resourceNames", _S, "r"), 5: ("nonResourceURLs", _S, "r")},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", "r")},
    "RoleBinding": {1: ("metadata", "ObjectMeta", ""), 2: ("subjects", "Subject", "r"),
                    3: ("roleRef", "RoleRef", "")},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", ""), 2: ("subjects", "Subject", "r"),
                           3: ("roleRef", "RoleRef", "")},
    "Subject": {1: ("kind", _S, ""), 2: ("apiGroup", _S, ""), 3: ("name", _S, ""), 4: ("namespace", _S, "")},
    "RoleRef": {1: ("apiGroup", _S, ""), 2: ("kind", _S, ""), 3: ("name", _S, "")},
    # --- authentication/v1, authorization/v1: what kubectl create token and auth send ---
    "TokenRequest": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "TokenRequestSpec", "")},
    "TokenRequestSpec": {1: ("audiences", _S, "r"), 3: ("boundObjectRef", "BoundObjectReference", "p"),
                         4: ("expirationSeconds", _I64, "p")},
    "BoundObjectReference": {1: ("kind", _S, ""), 2: ("apiVersion", _S, ""), 3: ("name", _S, ""),
                             4: ("uid", _S, "")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", "")},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "SelfSubjectAccessReviewSpec", "")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", "p"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", "p")},
    "ResourceAttributes": {1: ("namespace", _S, ""), 2: ("verb", _S, ""), 3: ("group", _S, ""),
                           4: ("version", _S, ""), 5: ("resource", _S, ""), 6: ("subresource", _S, ""),
                           7: ("name", _S, "")},
    "NonResourceAttributes": {1: ("path", _S, ""), 2: ("verb", _S, "")},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", ""), 2: ("spec", "SelfSubjectRulesReviewSpec", "")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", _S, "")},
    # --- special messages, converted to their JSON forms below ---
    "Time": {1: ("seconds", _I64, ""), 2: ("nanos", _I32, "")},
    "Quantity": {1: ("string", _S, "")},
    "IntOrString": {1: ("type", _I64, ""), 2: ("intVal", _I32, ""), 3: ("strVal", _S, "")},
}
# the kinds a request body may carry: (apiVersion, kind) -> message
KINDS = {("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Service"), ("v1", "ServiceAccount"),
         ("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"),
         ("v1", "Secret"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
         ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
         ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
         ("authentication.k8s.io/v1", "TokenRequest"), ("authentication.k8s.io/v1", "SelfSubjectReview"),
         ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
         ("authorization.k8s.io/v1", "SelfSubjectRulesReview")}

_VARINT, _FIXED64, _LEN, _START, _END, _FIXED32 = 0, 1, 2, 3, 4, 5
_WIRE = {_S: _LEN, "bytes": _LEN, "raw": _LEN, "json": _LEN, _B: _VARINT, _I32: _VARINT, _I64: _VARINT}
_ZERO = ("", 0, False)


class DecodeError(ValueError):
    """The error text gogo-protobuf's generated Unmarshal returns (what the API server shows)."""


# --- wire format --------------------------------------------------------------------
def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if shift >= 64:
            raise DecodeError("proto: integer overflow")
        if pos >= len(data):
            raise DecodeError("unexpected EOF")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def fields(data: bytes, message: str = "Generated"):
    """(field number, wire type, value) for each field: an int for varint and fixed
    fields, bytes for length-delimited ones. Groups (wire types 3/4) are rejected."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == _END:
            raise DecodeError(f"proto: {message}: wiretype end group for non-group")
        if number <= 0:
            raise DecodeError(f"proto: {message}: illegal tag {number} (wire type {wire})")
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if pos + size > end:
                raise DecodeError("unexpected EOF")
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        elif wire == _LEN:
            length, pos = _varint(data, pos)
            if length >= 1 << 63:
                raise DecodeError("proto: negative length found during unmarshaling")
            if pos + length > end:
                raise DecodeError("unexpected EOF")
            value, pos = bytes(data[pos:pos + length]), pos + length
        else:
            raise DecodeError(f"proto: illegal wireType {wire}")
        yield number, wire, value


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


# --- messages ------------------------------------------------------------------------
def _go_name(json_name: str) -> str:
    return json_name[:1].upper() + json_name[1:]


def _scalar(typ: str, wire: int, value, message: str, json_name: str):
    want = _WIRE[typ]
    if wire != want:
        raise DecodeError(f"proto: wrong wireType = {wire} for field {_go_name(json_name)}")
    if typ == _S:
        return value.decode("utf-8", "replace")     # Go's JSON encoder replaces invalid UTF-8 too
    if typ == "raw":
        return value
    if typ == "bytes":
        return base64.b64encode(value).decode("ascii")
    if typ == "json":
        return json.loads(value) if value else {}
    if typ == _B:
        return value != 0
    return _signed(value, 32 if typ == _I32 else 64)


def _time(data: bytes, unknown: list) -> str | None:
    t = message("Time", data, unknown)
    seconds = t.get("seconds", 0)
    if not seconds and not t.get("nanos"):
        return None                                  # a zero metav1.Time marshals as null
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_string(data: bytes, unknown: list):
    v = message("IntOrString", data, unknown)
    return v.get("strVal", "") if v.get("type") == 1 else v.get("intVal", 0)


def _value(typ: str, wire: int, value, name: str, json_name: str, unknown: list):
    if typ in _WIRE:
        return _scalar(typ, wire, value, name, json_name)
    if wire != _LEN:
        raise DecodeError(f"proto: wrong wireType = {wire} for field {_go_name(json_name)}")
    if typ == "Time":
        return _time(value, unknown)
    if typ == "Quantity":
        return message("Quantity", value, unknown).get("string", "0")
    if typ == "IntOrString":
        return _int_or_string(value, unknown)
    if typ.startswith("map:"):
        entry = {}
        value_type = typ[4:]
        for number, w, v in fields(value, name):
            if number == 1:
                entry["key"] = _scalar(_S, w, v, name, "key")
            elif number == 2:
                entry["value"] = _value(value_type, w, v, name, "value", unknown)
        return entry.get("key", ""), entry.get("value", "" if value_type == _S else None)
    return message(typ, value, unknown)


def message(name: str, data: bytes, unknown: list | None = None) -> dict:
    """Decode one message of the schema to its JSON form."""
    unknown = [] if unknown is None else unknown
    spec = SCHEMA[name]
    out: dict = {}
    for number, wire, value in fields(data, name):
        field = spec.get(number)
        if field is None:
            unknown.append(f"{name}.{number}")
            continue
        json_name, typ, flags = field
        # proto2 writes repeated scalars unpacked; accept packed ones too
        if "r" in flags and typ in (_I32, _I64, _B) and wire == _LEN:
            packed, pos = [], 0
            while pos < len(value):
                v, pos = _varint(value, pos)
                packed.append(_scalar(typ, _VARINT, v, name, json_name))
            out.setdefault(json_name, []).extend(packed)
            continue
        decoded = _value(typ, wire, value, name, json_name, unknown)
        if typ.startswith("map:"):
            out.setdefault(json_name, {})[decoded[0]] = decoded[1]
        elif "r" in flags:
            out.setdefault(json_name, []).append(decoded)
        elif "i" in flags:
            out.update(decoded)
        elif typ in SCHEMA and typ not in ("Time", "Quantity", "IntOrString") and isinstance(
                out.get(json_name), dict):
            out[json_name].update(decoded)           # a repeated message field merges (proto rules)
        else:
            out[json_name] = decoded
    for key, (json_name, typ, flags) in spec.items():
        v = out.get(json_name)
        if json_name in out and "p" not in flags and "r" not in flags and (
                (typ in _WIRE or typ in ("Quantity", "IntOrString")) and v in _ZERO
                or typ == "Time" and v is None):     # kubectl 1.33+ omits a zero Time (omitzero)
            del out[json_name]
    return out


# --- the envelope ----------------------------------------------------------------------
def _summary(data: bytes, limit: int = 30) -> str:
    """apiserver's summarizeData: text if it looks like JSON, else hex."""
    if not data:
        return "<empty>"
    text = data[:limit].decode("latin-1") if data[:1] == b"{" else data[:limit].hex()
    return text + (" ..." if len(data) > limit else "")


def decode(body: bytes, kind: str | None = None, unknown: list | None = None) -> dict:
    """The object a protobuf request body carries, as the JSON the API would accept.

    `kind` is the kind the endpoint expects (for the error messages, which follow the
    API server's transformDecodeError). Malformed input raises a 400 BadRequest ApiError.
    Field numbers this module does not know are appended to `unknown` and skipped.
    """
    unknown = [] if unknown is None else unknown
    expected = kind or "Unknown"
    if not body.startswith(MAGIC):
        raise _errors.bad_request(
            f"the object provided is unrecognized (must be of type {expected}): provided data does not "
            f"appear to be a protobuf message, expected prefix [107 56 115 0] ({_summary(body)})")
    try:
        envelope = message("Unknown", body[len(MAGIC):], unknown)
    except DecodeError as e:
        raise _errors.bad_request(
            f"the object provided is unrecognized (must be of type {expected}): {e} ({_summary(body)})")
    type_meta = envelope.get("typeMeta", {})
    api_version, obj_kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    version = api_version.rpartition("/")[2]
    if not obj_kind:
        raise _errors.bad_request(
            f"the object provided is unrecognized (must be of type {expected}): "
            f"Object 'Kind' is missing in '{_summary(body)}'")
    if (api_version, obj_kind) not in KINDS:
        raise _errors.bad_request(
            f'{obj_kind} in version "{version}" cannot be handled as a {kind or obj_kind}: no kind '
            f'"{obj_kind}" is registered for version "{api_version}" in scheme '
            '"pkg/api/legacyscheme/scheme.go:30"')
    try:
        obj = message(obj_kind, envelope.get("raw", b""), unknown)
    except DecodeError as e:
        raise _errors.bad_request(
            f'{obj_kind} in version "{version}" cannot be handled as a {kind or obj_kind}: {e}')
    if unknown:
        _log.debug("protobuf %s: skipped unknown fields %s", obj_kind, ", ".join(unknown))
    return {"apiVersion": api_version, "kind": obj_kind, **obj}
