"""Milestones of project 06c (the checks live in lesson06.py, shared by the three beginner projects)."""

from .lesson06 import PART_C as QUESTIONS

__all__ = ["QUESTIONS"]
