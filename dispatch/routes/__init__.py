"""The web layer: one blueprint per area, and the JSON API as the package ``api/``.

A view parses the request, calls one service (dispatch/services/) and renders or redirects; it
runs no query of its own beyond loading one row by id (tests/house/test_views.py). The modules
that are not blueprints are shared by them all: ``forms`` (CsrfForm), ``access`` (role checks),
``announce`` (the notices a change queues before the commit), ``labels`` (words for codes),
``plan_display`` (the plan pages' wording) and ``worker_form`` (the worker form's lists). No blueprint module imports another; only the app
factory (dispatch/__init__.py) imports the blueprints, and web.py the API's error shape.
"""
