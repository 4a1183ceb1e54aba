"""Scale-out on existing engines: the semantic-id index built on Ray Data (training runs data
parallel in ``training.distributed``; serving replicas in ``cli.serve``)."""
