# setup.py - setuptools reads setup.cfg; see its opening comment.
from setuptools import setup

setup()
