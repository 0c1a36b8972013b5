"""The HTTP front end: routing, CRUD, watch and streaming over the Kubernetes REST API, with
discovery, OpenAPI, protobuf bodies, the request edge (sizes, decoding, query parameters) and
the exec WebSocket. It computes nothing derived: the registry and the stores own that.
"""
