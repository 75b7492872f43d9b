# setup.py - setuptools reads setup.cfg; see its opening comment.  The one
# addition: heapsnap-pytest.pth goes into site-packages beside the package
# (heapsnap._early: `pytest --heapsnap` run again under the shim before
# pytest is imported), copied into the build by build_py, as pytest-cov
# installs its own .pth.
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "heapsnap-pytest.pth"


class build_py_with_pth(build_py):
    def run(self):
        super().run()
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, PTH), os.path.join(self.build_lib, PTH))

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH)]


setup(cmdclass={"build_py": build_py_with_pth})
