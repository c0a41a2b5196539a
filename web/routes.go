package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/views/partials"
	"github.com/rosetta-cdc/rosetta/web/api"
)

// routes is the one route table: every URL Rosetta answers is registered here, and
// every one of them has its entry in the permission table (access_table.go).
// metricsPath is the Prometheus scrape endpoint (also answered 401, not redirected, when
// no credentials come: see unauthenticated).
const metricsPath = "/metrics"

func (s *Server) routes() {
	e := s.Echo

	// Liveness: no database, so an orchestrator never restarts an instance for a
	// database outage it cannot fix.
	e.GET("/health", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	RegisterStatic(e)

	// Prometheus (request metrics are the first middleware, see New); the scrape itself
	// needs a viewer's token or session (access_table.go).
	e.GET(metricsPath, echo.WrapHandler(s.deps.Metrics.Handler()))

	// ---- JSON API (/api/v1), documented by the OpenAPI it is built from
	g := e.Group("/api/v1")
	a := humaecho.NewWithGroup(e, g, s.apiConfig())
	s.API = a
	h := &api.Handlers{Catalog: s.deps.Catalog, Pool: s.deps.Pool, Version: s.deps.Version, Started: time.Now(),
		Monitor: s.deps.Monitor}

	health := get("health", "/health", "Readiness: database reachability, latency, pool, migration version, and the WAL monitor's leadership and last cycle (no credentials needed)", "health")
	health.Security = []map[string][]string{{}} // anonymous: load balancers probe it
	register(a, health, h.Health, http.StatusServiceUnavailable)

	register(a, get("list-sources", "/sources", "List sources", "sources"), h.ListSources)
	register(a, post("create-source", "/sources", "Register a PostgreSQL source", "sources", http.StatusCreated), h.CreateSource, createErrs...)
	register(a, get("get-source", "/sources/{id}", "Get a source", "sources"), h.GetSource, http.StatusNotFound)
	registerUpdate(a, "source", "sources", h.UpdateSource)
	register(a, del("delete-source", "/sources/{id}", "Delete a source and its WAL samples; refused while pipelines use it", "sources"), h.DeleteSource,
		http.StatusNotFound, http.StatusConflict)
	register(a, post("test-source", "/sources/{id}/test", "Run the connection checks against the source (changes nothing)", "sources", http.StatusOK), h.TestSource,
		http.StatusNotFound)
	register(a, post("test-new-source", "/sources/test",
		"Run the connection checks on a source as given, without saving it: the body is a create's, validated the same way (422 naming every bad field). A host that never answers takes up to 5 s",
		"sources", http.StatusOK), h.TestNewSource, http.StatusUnprocessableEntity)
	register(a, post("probe-source", "/sources/{id}/probe",
		"Probe the source's WAL now: one sample is recorded like the monitor's and returned; a failed probe is recorded on the source and answered 503 with the reason",
		"sources", http.StatusOK), h.ProbeSource, http.StatusNotFound, http.StatusServiceUnavailable)

	register(a, get("list-destinations", "/destinations", "List destinations", "destinations"), h.ListDestinations)
	register(a, post("create-destination", "/destinations", "Register a Snowflake destination", "destinations", http.StatusCreated), h.CreateDestination, createErrs...)
	register(a, get("get-destination", "/destinations/{id}", "Get a destination", "destinations"), h.GetDestination, http.StatusNotFound)
	registerUpdate(a, "destination", "destinations", h.UpdateDestination)
	register(a, del("delete-destination", "/destinations/{id}", "Delete a destination; refused while pipelines use it", "destinations"), h.DeleteDestination,
		http.StatusNotFound, http.StatusConflict)
	register(a, post("test-new-destination", "/destinations/test",
		"Run the destination's checks on a destination as given, without saving it: the body is a create's, validated the same way (422 naming every bad field)",
		"destinations", http.StatusOK), h.TestNewDestination, http.StatusUnprocessableEntity)
	register(a, post("test-destination", "/destinations/{id}/test",
		"Run the destination's checks: account, private key (file or pasted), then DNS, TLS and a key-pair sign-in to Snowflake (changes nothing)",
		"destinations", http.StatusOK), h.TestDestination, http.StatusNotFound)

	register(a, get("list-pipelines", "/pipelines", "List pipelines", "pipelines"), h.ListPipelines)
	register(a, post("create-pipeline", "/pipelines", "Create a pipeline (starts PAUSE / PAUSED)", "pipelines", http.StatusCreated), h.CreatePipeline, createErrs...)
	register(a, get("get-pipeline", "/pipelines/{id}", "Get a pipeline with its source, destination and runtime metadata", "pipelines"), h.GetPipeline,
		http.StatusNotFound)
	registerUpdate(a, "pipeline", "pipelines", h.UpdatePipeline)
	register(a, del("delete-pipeline", "/pipelines/{id}", "Delete a pipeline; refused while it is running", "pipelines"), h.DeletePipeline,
		http.StatusNotFound, http.StatusConflict)
	register(a, action("start-pipeline", "/pipelines/{id}/start",
		"Start: preflight the source, then the destination; pass → START/RUNNING, fail → START/ERROR with the failed check. "+
			"An unreachable Snowflake does not block: the pipeline starts with metadata.preflight_warning set. Starting a running pipeline changes nothing."),
		h.StartPipeline, http.StatusNotFound)
	register(a, action("pause-pipeline", "/pipelines/{id}/pause",
		"Pause: → PAUSE/PAUSED. The replication slot keeps retaining WAL while paused."),
		h.PausePipeline, http.StatusNotFound)
	register(a, action("refresh-pipeline", "/pipelines/{id}/refresh",
		"Refresh (re-sync from a fresh snapshot): preflight, then REFRESH/RUNNING (or REFRESH/ERROR). 409 while a refresh runs."),
		h.RefreshPipeline, http.StatusNotFound, http.StatusConflict)

	ah := &api.AuditHandlers{Audit: s.deps.Audit}
	register(a, get("list-audit-events", "/audit", "The audit log, newest first: who changed what, when, from where (secret values never)", "audit"),
		ah.ListAudit, http.StatusUnauthorized, http.StatusUnprocessableEntity)

	xh := &api.AccessHandlers{Auth: s.deps.Auth}
	register(a, get("get-me", "/me", "Who this request acts as: user, role, and the API token used", "access"), xh.Me)
	register(a, get("list-tokens", "/tokens", "List API tokens: your own, or everyone's for an admin (never the secrets)", "access"),
		xh.ListTokens, http.StatusUnprocessableEntity)
	register(a, post("create-token", "/tokens", "Create an API token; the answer carries the secret, shown this once", "access", http.StatusCreated),
		xh.CreateToken, http.StatusConflict, http.StatusNotFound, http.StatusUnprocessableEntity)
	register(a, del("revoke-token", "/tokens/{id}", "Revoke an API token (yours, or anyone's for an admin); requests with it fail from now on", "access"),
		xh.RevokeToken, http.StatusNotFound)
	register(a, get("list-users", "/users", "List users (admins)", "access"), xh.ListUsers)
	register(a, post("create-user", "/users", "Create a user who signs in with email and password (admins)", "access", http.StatusCreated),
		xh.CreateUser, http.StatusConflict, http.StatusUnprocessableEntity)
	register(a, get("get-user", "/users/{id}", "Get a user (admins)", "access"), xh.GetUser, http.StatusNotFound)
	register(a, patch("update-user", "/users/{id}", "Change a user's role, disabled state or password, all or nothing (admins); the last active admin stays one", "access"),
		xh.UpdateUser, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity)

	register(a, get("list-wal-metrics", "/metrics/wal", "WAL samples, newest first; ranges with more samples than limit are downsampled in SQL", "metrics"),
		h.WALMetrics)

	api.DescribeSlotCreation(a.OpenAPI())

	// ---- access: sign-in, API tokens, users, audit log (access_pages.go)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.loginSubmit, middleware.BodyLimit("16K"))
	e.POST("/logout", s.logout)
	e.GET("/settings/tokens", s.tokensPage)
	e.POST("/settings/tokens", s.tokenCreate)
	e.GET("/settings/tokens/:id/revoke", s.tokenRevokeConfirm)
	e.POST("/settings/tokens/:id/revoke", s.tokenRevoke)
	e.GET("/users", s.usersPage)
	e.POST("/users", s.userCreate)
	e.POST("/users/:id/role", s.userSetRole)
	e.POST("/users/:id/disable", s.userDisable)
	e.POST("/users/:id/enable", s.userEnable)
	e.POST("/users/:id/password", s.userResetPassword)
	e.GET("/settings/password", s.passwordPage)
	e.POST("/settings/password", s.passwordChange)
	e.GET("/audit", s.auditPage)

	// ---- console (console_*.go)
	e.GET("/api/docs", s.apiDocs)

	// Bookmarkable pages are GETs; every change is a POST (plain forms work without
	// JavaScript: POST → 303 → GET). /sources/new is static, so it wins over /sources/:id.
	e.GET("/", s.dashboard)
	e.GET("/wal", s.walIndex)

	e.GET("/sources", s.sourcesIndex)
	e.GET("/sources/new", s.sourceNew)
	e.POST("/sources", s.sourceCreate)
	e.GET("/sources/:id", s.sourceShow)
	e.GET("/sources/:id/edit", s.sourceEdit)
	e.POST("/sources/:id", s.sourceUpdate)
	e.POST("/sources/:id/delete", s.sourceDelete)
	e.POST("/sources/:id/test", s.sourceTest)
	e.POST("/sources/:id/probe", s.sourceProbe)
	e.GET("/sources/:id/wal", s.sourceWAL)

	e.GET("/destinations", s.destinationsIndex)
	e.GET("/destinations/new", s.destinationNew)
	e.POST("/destinations", s.destinationCreate)
	e.GET("/destinations/:id", s.destinationShow)
	e.GET("/destinations/:id/edit", s.destinationEdit)
	e.POST("/destinations/:id", s.destinationUpdate)
	e.POST("/destinations/:id/delete", s.destinationDelete)
	e.POST("/destinations/:id/test", s.destinationTest)

	e.GET("/pipelines", s.pipelinesIndex)
	e.GET("/pipelines/new", s.pipelineNew)
	e.GET("/pipelines/filter/sources", pipelineFilterOptions(partials.SourceFilter, s.deps.Catalog.MatchSourceNames))
	e.GET("/pipelines/filter/destinations", pipelineFilterOptions(partials.DestinationFilter, s.deps.Catalog.MatchDestinationNames))
	e.POST("/pipelines", s.pipelineCreate)
	e.GET("/pipelines/:id", s.pipelineShow)
	e.GET("/pipelines/:id/edit", s.pipelineEdit)
	e.POST("/pipelines/:id", s.pipelineUpdate)
	e.POST("/pipelines/:id/delete", s.pipelineDelete)
	e.POST("/pipelines/:id/start", s.pipelineAction(catalog.ActionStart))
	// GET on a costly action's URL is its confirmation page (no JavaScript needed)
	e.GET("/pipelines/:id/pause", s.pipelineConfirm(catalog.ActionPause))
	e.GET("/pipelines/:id/refresh", s.pipelineConfirm(catalog.ActionRefresh))
	e.POST("/pipelines/:id/pause", s.pipelineAction(catalog.ActionPause))
	e.POST("/pipelines/:id/refresh", s.pipelineAction(catalog.ActionRefresh))

	// ---- live WAL streams, console and API (sse.go)
	s.sseRoutes()
}

func op(id, method, path, summary, tag string, status int) huma.Operation {
	return huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{tag}, DefaultStatus: status,
		// The catalog validates bodies (one rule set for both faces, every bad field
		// reported at once); huma only decodes them, strictly (see decode.go).
		SkipValidateBody: true,
	}
}

func get(id, path, summary, tag string) huma.Operation {
	return op(id, http.MethodGet, path, summary, tag, http.StatusOK)
}
func post(id, path, summary, tag string, status int) huma.Operation {
	return op(id, http.MethodPost, path, summary, tag, status)
}
func put(id, path, summary, tag string) huma.Operation {
	return op(id, http.MethodPut, path, summary, tag, http.StatusOK)
}
func patch(id, path, summary, tag string) huma.Operation {
	return op(id, http.MethodPatch, path, summary, tag, http.StatusOK)
}
func del(id, path, summary, tag string) huma.Operation {
	return op(id, http.MethodDelete, path, summary, tag, http.StatusNoContent)
}
func action(id, path, summary string) huma.Operation {
	o := op(id, http.MethodPost, path, summary, "pipelines", http.StatusOK)
	return o
}

// The error statuses of creating and updating, besides every operation's (register).
var (
	createErrs = []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity}
	updateErrs = []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity}
)

// registerUpdate registers PUT and PATCH on one resource: both change the fields given
// and keep the rest, so they share the handler.
func registerUpdate[I, O any](a huma.API, kind, tag string, h func(ctx context.Context, in *I) (*O, error)) {
	path := "/" + tag + "/{id}"
	register(a, put("update-"+kind, path, "Update a "+kind+" (fields given are changed, the rest kept)", tag), h, updateErrs...)
	register(a, patch("patch-"+kind, path, "Update a "+kind+" (same as PUT)", tag), h, updateErrs...)
}

// register adds an operation, documenting the error statuses it can answer besides the
// ones every operation can (400 malformed input, 500, 503, and for those behind a token
// 401, 403 and 429).
func register[I, O any](a huma.API, o huma.Operation, h func(ctx context.Context, in *I) (*O, error), errs ...int) {
	common := []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusServiceUnavailable}
	if o.Security == nil {
		common = append(common, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
	}
	for _, e := range errs {
		if !slices.Contains(common, e) {
			common = append(common, e)
		}
	}
	o.Errors = common
	huma.Register(a, o, h)
}
