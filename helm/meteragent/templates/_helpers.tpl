{{/* The chart name, or nameOverride. */}}
{{- define "meteragent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name: fullnameOverride, or "<release>-<name>" (just the release when it already contains the name). */}}
{{- define "meteragent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes recommended labels. */}}
{{- define "meteragent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "meteragent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: meteragent
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* What the Services, the PDB and the NetworkPolicy select the agent's pods by. */}}
{{- define "meteragent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meteragent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end -}}

{{- define "meteragent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "meteragent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "true" when the agent runs as a StatefulSet: always with sqlite (one writer, its file on a claim); with redis when each replica keeps its store on a claim. */}}
{{- define "meteragent.statefulSet" -}}
{{- or (eq .Values.store.kind "sqlite") .Values.persistence.enabled -}}
{{- end -}}

{{- define "meteragent.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
