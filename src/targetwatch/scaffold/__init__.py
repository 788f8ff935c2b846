"""Templates that ``targetwatch init`` copies: ``project/`` (a new project) and ``plugin/``
(a plugin package, ``*.tmpl`` files with ``{{name}}``-style placeholders)."""
