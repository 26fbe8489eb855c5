"""nbgrader's hub settings for every server of the class; deploy/hub/setup.sh installs this file as
/opt/rustsync-hub/etc/jupyter/nbgrader_config.py, where every server run from that environment reads it.

The exchange is shared by everyone on the machine (jupyterhub_config.py passes its path as
NBGRADER_EXCHANGE; the course's own nbgrader_config.py reads the same variable). Each fetched
assignment lands in <course id>/<assignment>/ of the student's home folder, so that two courses
never mix, and nbgrader learns a user's courses from their hub groups (nbgrader-<course>,
formgrade-<course>). The course's own service (formgrader, run by the grading account, which is
no hub user) lists no courses, and adds no one to a hub group: the hub takes its groups from the
course's Unix groups (jupyterhub_config.py). A submit reaches the exchange whole or not at all
(rustsync/grading/exchange.py: assembled under a hidden name, then renamed into place), so collect
never takes a submission that a killed server or a restarted hub cut short.
"""

import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 - nbgrader defines get_config when it loads this file

c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
c.ExchangeFactory.submit = "rustsync.grading.exchange.AtomicSubmit"
if not os.environ.get("JUPYTERHUB_SERVICE_NAME"):
    c.Authenticator.plugin_class = JupyterHubAuthPlugin
