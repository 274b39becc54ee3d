import acct


@acct.hookimpl
def acct_register_component(register):
    pass
