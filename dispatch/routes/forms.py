"""Form pieces every blueprint uses; any module under dispatch/routes/ may import this one."""

from __future__ import annotations

from flask_wtf import FlaskForm


class CsrfForm(FlaskForm):
    """Forms whose fields are checked by a service; this adds the CSRF token."""
