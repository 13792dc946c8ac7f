"""The APK builder moved into the package (:mod:`appveto.demo.apkbuilder`); kept for old imports."""

from appveto.demo.apkbuilder import *  # noqa: F403
from appveto.demo.apkbuilder import XmlElement as _Element  # noqa: F401
