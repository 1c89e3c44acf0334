"""The Kubernetes manifests of deploy/k8s/base, generated from the one declaration of the services'
settings (deploy/local/tsunagu_stack/services.py) and the topics of the contracts."""
