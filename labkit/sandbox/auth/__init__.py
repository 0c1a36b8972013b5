"""Who a request comes from and what it may do: ServiceAccount tokens and RBAC, as
kube-apiserver's authenticators and its RBAC authorizer (plugin/pkg/auth/authorizer/rbac)."""
