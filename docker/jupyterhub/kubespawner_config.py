"""JupyterHub with KubeSpawner and a hubify image, without Zero to JupyterHub's chart.

Kubernetes starts the pod as uid 1000 with fsGroup 100 (the kubelet makes the home volume
group-writable), so hubify starts unprivileged: it skips the home set-up and says so once.
"""
c = get_config()  # noqa: F821 (provided by JupyterHub)

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.image = "registry.example.org/hubify-python-http:latest"
# None keeps the image's CMD; hubify is the ENTRYPOINT, which Kubernetes always keeps.
c.KubeSpawner.cmd = None
c.KubeSpawner.port = 8888
c.KubeSpawner.uid = 1000
c.KubeSpawner.fs_gid = 100
c.KubeSpawner.environment = {"HUBIFY_LOG_FORMAT": "json"}
c.KubeSpawner.http_timeout = 120  # slow apps: the hub waits for {prefix}api, which hubify answers at once
c.JupyterHub.allow_named_servers = True
