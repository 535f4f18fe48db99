"""JupyterHub with DockerSpawner and hubify images.

- Containers start as root so hubify can create and chown the user's home volume (DockerSpawner
  creates it root-owned) before it drops to uid 1000 / gid 100.
- Named servers work out of the box: each gets its own prefix, OAuth client and cookie.
- Idle culling works: hubify reports real activity (requests and WebSocket messages) to the hub.
"""
import os

c = get_config()  # noqa: F821 (provided by JupyterHub)

c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = os.environ.get("HUBIFY_IMAGE", "hubify-python-http:latest")
c.DockerSpawner.network_name = os.environ.get("DOCKER_NETWORK_NAME", "jupyterhub")
c.DockerSpawner.remove = True
# The image's ENTRYPOINT is hubify and its CMD (or /etc/hubify.json) names the service: keep them.
c.DockerSpawner.cmd = None
# Start as root: hubify prepares the home volume, then drops privileges.
c.DockerSpawner.extra_create_kwargs = {"user": "root"}
c.DockerSpawner.volumes = {"jupyterhub-user-{username}": "/home/jovyan"}
c.DockerSpawner.environment = {
    "CHOWN_HOME": "yes",  # docker-stacks name, honoured by hubify
    "NB_UID": "1000",
    "NB_GID": "100",
    "HUBIFY_LOG_FORMAT": "json",
    "HUBIFY_FORWARD_USER": "true",  # the app may read X-Forwarded-User
}
c.DockerSpawner.port = 8888  # hubify listens where JUPYTERHUB_SERVICE_URL says

c.JupyterHub.hub_ip = "0.0.0.0"
c.JupyterHub.hub_connect_ip = os.environ.get("HUB_CONNECT_IP", "jupyterhub")
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = 3

# Idle culling: hubify's activity reports keep last_activity real (default interval 300 s).
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": ["python3", "-m", "jupyterhub_idle_culler", "--timeout=3600"],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]

c.JupyterHub.authenticator_class = os.environ.get("HUB_AUTHENTICATOR", "dummy")
