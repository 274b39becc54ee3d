import a_module_that_is_not_installed  # noqa: F401 (the failing import is the point)
