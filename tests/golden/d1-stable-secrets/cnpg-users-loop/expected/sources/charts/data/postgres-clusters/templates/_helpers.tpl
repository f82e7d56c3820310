{{- define "postgres-clusters.labels" -}}
app.kubernetes.io/name: postgres-clusters
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
cnpg.io/cluster: {{ .Values.clusterName }}
{{- end -}}

{{- define "postgres-clusters.storageClass" -}}
{{- .Values.storage.storageClass | default .Values.storageClass | default "" -}}
{{- end -}}
