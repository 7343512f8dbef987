"""Milestones of project 06a (the checks live in lesson06.py, shared by the three beginner projects)."""

from .lesson06 import PART_A as QUESTIONS

__all__ = ["QUESTIONS"]
