import acct


@acct.hookimpl
def acct_register_components(register):
    raise RuntimeError("oops")
