{{- define "temporal-bootstrap.fullname" -}}
{{- printf "%s" .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "temporal-bootstrap.labels" -}}
app.kubernetes.io/name: temporal-bootstrap
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
