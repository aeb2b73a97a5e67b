"""Logging in from a learning platform (LTI 1.3: Canvas, Moodle, ...) instead of Unix passwords.

Load this after hub/jupyterhub_config.py, e.g. with `jupyterhub -f hub/jupyterhub_config.py -f hub/lti13_config.py`
(or put its lines in the Zero to JupyterHub values, hub.config.LTI13Authenticator: see hub/k8s/z2jh-values.yaml).
It needs the package jupyterhub-ltiauthenticator (1.6.3; not installed by `make hub`, which uses Unix passwords)
and a hub reached over HTTPS under the name the platform knows. The values come from registering the hub as an
LTI 1.3 tool in the platform; the platform asks for these URLs of the hub:

    login initiation (OIDC) URL   https://hub.example.edu/hub/lti13/oauth_login
    redirect URI                  https://hub.example.edu/hub/lti13/oauth_callback
    tool configuration (JSON)     https://hub.example.edu/hub/lti13/config     (Canvas can import it)

The login name becomes the hub user and nbgrader's student id, so it must be stable and a valid Unix name when
the hub spawns local processes: `sub` (the platform's opaque user id) is stable; an e-mail address is readable
but changes. The roster CSV of hub/accounts.py then lists these names (export them from the platform).
"""
c = get_config()  # noqa: F821 (JupyterHub provides it)

c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
# the platform, as registered ("issuer" and "client_id" come from the platform's developer key / tool registration)
c.LTI13Authenticator.issuer = "https://canvas.instructure.com"            # Moodle: https://moodle.example.edu
c.LTI13Authenticator.client_id = ["change-me"]
c.LTI13Authenticator.authorize_url = "https://canvas.example.edu/api/lti/authorize_redirect"
#   Moodle: https://moodle.example.edu/mod/lti/auth.php
c.LTI13Authenticator.jwks_endpoint = "https://canvas.example.edu/api/lti/security/jwks"
#   Moodle: https://moodle.example.edu/mod/lti/certs.php
c.LTI13Authenticator.username_key = "sub"
# Everyone the platform launches is in the course; the roster still decides who is a grader (the hub's groups).
c.Authenticator.allow_all = True
