"""Tests of the deployment artefacts under deploy/."""
