"""genai-finops without cdktf: the manifests, the plan, provisioning decisions, the scan and the
showback, in one package per pillar (manifest/, plan/, provision/, scan/, see/, samples/), with
the vocabulary they share at this level (model, yaml_source, errors, files, safe_text, naming,
tags, labels, kubernetes, catalog, amis, months, environment) and the CLI (cli, commands/).
Nothing here imports cdktf, jsii or a provider package; the README's "Layout" says what lives where.
"""
