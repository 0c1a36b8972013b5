"""Is this object valid: apimachinery's and pkg/apis' validation, in their exact wording.
It imports nothing else of the sandbox.
"""
