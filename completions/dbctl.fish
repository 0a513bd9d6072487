complete --keep-order --exclusive --command dbctl --arguments "(COMPLETE=fish dbctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
