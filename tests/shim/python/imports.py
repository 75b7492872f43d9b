# imports.py - a program that imports modules (their import runs through
# importlib's frozen bootstrap; imports_leak leaks at its top level) and
# then allocates at its own line, for test_python_html_folds_imports.sh.
import argparse
import decimal
import email.parser
import fractions
import imports_leak  # noqa: F401
import json
import xml.dom.minidom


def build():
    return [str(i) * 20 for i in range(20000)]  # MARK_OWN


held = build()
