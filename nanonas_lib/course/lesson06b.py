"""Milestones of project 06b (the checks live in lesson06.py, shared by the three beginner projects)."""

from .lesson06 import PART_B as QUESTIONS

__all__ = ["QUESTIONS"]
