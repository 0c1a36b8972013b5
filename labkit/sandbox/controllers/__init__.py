"""Controllers: the background work that turns what users wrote into what runs, one module per
controller (Deployment, ReplicaSet, scheduler, kubelet, endpoints, namespaces and garbage
collection) under one manager (`_manager.Controllers`) that owns the work queue.
"""
