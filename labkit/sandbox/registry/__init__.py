"""The registry between HTTP and the store, as kube-apiserver's REST storage: the
create/update/delete flow, admission (defaulting, then validation), PATCH semantics and
scaling.
"""
