{{/* Path of a bundled manifest file. */}}
{{- define "raw-manifests.file" -}}
{{- printf "files/%s" . -}}
{{- end -}}
