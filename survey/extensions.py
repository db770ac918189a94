"""Unbound extension singletons, initialised in the app factory."""

from __future__ import annotations

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy

from survey.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
