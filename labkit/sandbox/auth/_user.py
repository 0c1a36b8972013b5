"""The authenticated user (k8s.io/apiserver/pkg/authentication/user.Info)."""
from __future__ import annotations

from dataclasses import dataclass, field

AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
SA_PREFIX = "system:serviceaccount:"

# The sandbox's admin token stands for kubeadm's admin client certificate (CN kubernetes-admin).
# kind since 1.29 puts it in `kubeadm:cluster-admins` (bound to cluster-admin); the sandbox keeps
# it in system:masters, the group no RBAC change can lock out, so no lesson can lose its admin.
ADMIN_NAME = "kubernetes-admin"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        """authentication/v1 UserInfo, as SelfSubjectReview shows it (empty fields omitted)."""
        out: dict = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {k: list(self.extra[k]) for k in sorted(self.extra)}     # a Go map: sorted keys
        return out


ADMIN = UserInfo(ADMIN_NAME, (MASTERS, AUTHENTICATED))


def service_account_username(namespace: str, name: str) -> str:
    """pkg/serviceaccount.MakeUsername."""
    return f"{SA_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """pkg/serviceaccount.MakeGroupNames, then the authenticated group every user gets."""
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED)


def split_service_account(username: str) -> tuple[str, str] | None:
    """(namespace, name) of `system:serviceaccount:NS:NAME`, else None."""
    if not username.startswith(SA_PREFIX):
        return None
    parts = username[len(SA_PREFIX):].split(":")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None
