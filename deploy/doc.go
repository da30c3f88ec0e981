// Package deploy holds the container image (Dockerfile) and the Kubernetes
// manifests (kustomize: the service in this directory, the batch tagging
// Job in batch/); its test checks the invariants the manifests rely on.
package deploy
