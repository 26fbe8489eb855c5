"""The course around the package: its folder and assignments, its environment, and messages that say the fix.

`folder` knows where the course is and what its nbgrader commands need (the right folder,
an assignment that exists, submissions to grade); `cells` names the lesson cell to run
first after a NameError; `environment` writes the course's settings into its Python
environment (what `start.sh` runs).
"""
