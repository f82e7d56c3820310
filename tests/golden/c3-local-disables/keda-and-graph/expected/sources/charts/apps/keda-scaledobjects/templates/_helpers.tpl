{{- define "keda-scaledobjects.labels" -}}
app.kubernetes.io/name: keda-scaledobjects
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
