"""The built-in plugins: rule kinds, sources and output formats, registered through the same
hooks as third-party plugins (see :data:`targetwatch.plugins.DEFAULT_PLUGINS`)."""
