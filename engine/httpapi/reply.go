package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/compass-go/compass/engine/api"
)

// reply writes v as the CLI's --json document (api.WriteJSON), or as
// msgpack when the request asks for it.
func (h *handler) reply(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	ct := typeJSON
	var err error
	if wantsMsgpack(r) {
		ct = typeMsgpack
		err = encodeMsgpack(&buf, v)
	} else {
		err = api.WriteJSON(&buf, v)
	}
	if err != nil {
		h.fail(w, r, &api.InternalError{Stage: "encoding the reply", Err: err})
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// problem is an RFC 9457 problem document, with three extension members:
// the request field at fault, the model's node at fault (an
// api.NodeError's), and the limit a refused request exceeded.
type problem struct {
	Type     string        `json:"type"`
	Title    string        `json:"title"`
	Status   int           `json:"status"`
	Detail   string        `json:"detail"`
	Instance string        `json:"instance,omitempty"`
	Field    string        `json:"field,omitempty"`
	Node     string        `json:"node,omitempty"`
	Limit    *problemLimit `json:"limit,omitempty"`
}

// problemLimit is an api.LimitError's figures; Lift is serverLift's:
// the serve flag that sets the server's limit.
type problemLimit struct {
	What  string `json:"what"`
	Need  int64  `json:"need"`
	Limit int64  `json:"limit"`
	Lift  string `json:"lift"`
}

// problem writes p as application/problem+json.
func (h *handler) problem(w http.ResponseWriter, r *http.Request, p problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	body, err := json.Marshal(p)
	if err != nil { // a struct of strings and ints: cannot fail
		body = []byte(`{"type":"about:blank","status":500}`)
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", typeProblem)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// fail answers err with its status:
//
//	body over the limit                       413
//	a request fault found before the engine   400 (415, 422) with the field
//	*api.InputError                           400 with the field
//
// and a fault of one node of the model (*api.NodeError, inside either)
// names it in node as well.
//
//	*api.LimitError                           422 with the limit
//	the deadline passed                       504
//	*api.InternalError, a panic               500
//	any other engine error                    422 (valid JSON the engine cannot compile)
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		maxErr   *http.MaxBytesError
		reqErr   *requestError
		inputErr *api.InputError
		limitErr *api.LimitError
		internal *api.InternalError
	)
	switch {
	case errors.As(err, &maxErr):
		h.problem(w, r, problem{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body is over the server's limit of %d bytes: send a smaller model file, or raise the server's --max-body", maxErr.Limit)})
	case errors.As(err, &reqErr):
		h.problem(w, r, problem{Status: reqErr.status, Field: reqErr.field, Node: nodeOf(err), Detail: reqErr.Error()})
	case errors.As(err, &internal):
		h.problem(w, r, problem{Status: http.StatusInternalServerError, Detail: internal.Error()})
	case errors.As(err, &limitErr):
		lift := serverLift(limitErr.Lift)
		detail := fmt.Sprintf("the request needs %d %s, over the server's limit of %d: make the request smaller. The limit is %s",
			limitErr.Need, limitErr.What, limitErr.Limit, lift)
		h.problem(w, r, problem{Status: http.StatusUnprocessableEntity, Detail: strings.Replace(err.Error(), limitErr.Error(), detail, 1),
			Limit: &problemLimit{What: limitErr.What, Need: limitErr.Need, Limit: limitErr.Limit, Lift: lift}})
	case errors.As(err, &inputErr):
		h.problem(w, r, problem{Status: http.StatusBadRequest, Field: inputErr.Field, Node: nodeOf(err), Detail: err.Error()})
	case errors.Is(err, context.DeadlineExceeded):
		h.problem(w, r, problem{Status: http.StatusGatewayTimeout,
			Detail: fmt.Sprintf("the request's work passed the server's deadline of %s and was stopped: ask for less work (fewer methods, a smaller GA population or batch), or raise the server's --deadline", h.cfg.Deadline)})
	case errors.Is(err, context.Canceled):
		h.problem(w, r, problem{Status: http.StatusServiceUnavailable, Detail: "the request was cancelled before its work ended"})
	default:
		h.problem(w, r, problem{Status: http.StatusUnprocessableEntity, Node: nodeOf(err), Detail: err.Error()})
	}
}

// nodeOf is the name of the model's node err blames (an *api.NodeError's),
// or "".
func nodeOf(err error) string {
	var ne *api.NodeError
	if errors.As(err, &ne) {
		return ne.Node
	}
	return ""
}

// serverLift is how a limit is lifted, for a client of the API: the
// engine's Lift names the CLI's flag and the request's field, e.g.
// "--max-units (limits.max_units)", but a request can only lower the
// server's limits. It names the serve flag that raises the limit; a Lift
// that names no flag (a fixed bound) is kept.
func serverLift(lift string) string {
	flag, rest, _ := strings.Cut(lift, " ")
	if !strings.HasPrefix(flag, "--") {
		return lift
	}
	out := "the server's, which a request cannot lift; its operator sets it (compass serve " + flag + ")"
	if field := strings.Trim(rest, "()"); strings.HasPrefix(field, "limits.") {
		out += "; a request's " + field + " can only lower it"
	}
	return out
}
