{{- define "azure-dns-issuer.labels" -}}
app.kubernetes.io/name: azure-dns-issuer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
