"""nbgrader course configuration. The course directory is this repository: solutions/ is nbgrader's source
folder; release/, submitted/, autograded/, feedback/ and gradebook.db are generated and kept out of git."""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.md", "*.py"]
c.Execute.timeout = 60
