{{- define "devcontainer-service.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "devcontainer-service.selectorLabels" -}}
app.kubernetes.io/name: devcontainer-service
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
