package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/compass-go/compass/engine/api"
)

// inputsError names the request field at fault when an uploaded model
// could not be read with the request's input settings (input_shape,
// inputs), or returns nil when the fault is the file's. Its advice is
// for a JSON client: the CLI's --input flag is no field of a request.
func inputsError(name string, data []byte, opt modelOptions, err error) error {
	var dyn *api.DynamicShapeError
	if errors.As(err, &dyn) {
		return &requestError{http.StatusUnprocessableEntity, "inputs", errors.New(dynamicShapeAdvice(dyn))}
	}
	if len(opt.InputShape) == 0 && len(opt.Inputs) == 0 {
		return nil
	}
	ins, inErr := api.ModelInputs(name, data)
	if inErr != nil {
		return nil
	}
	return checkInputSettings(ins, opt)
}

// dynamicShapeAdvice says which inputs need a shape and how a request
// gives it.
func dynamicShapeAdvice(e *api.DynamicShapeError) string {
	all := append([]*api.DynamicShapeError{e}, e.More...)
	var what, examples []string
	for _, d := range all {
		dims := make([]string, len(d.Dims))
		for k, i := range d.Dims {
			dims[k] = "dimension " + strconv.Itoa(i)
			if i < len(d.DimNames) && d.DimNames[i] != "" {
				dims[k] += " (" + d.DimNames[i] + ")"
			}
		}
		what = append(what, fmt.Sprintf("graph input %q has shape %s with %s dynamic", d.Input, declared(d.Declared, d.DimNames), strings.Join(dims, " and ")))
		examples = append(examples, fmt.Sprintf(`{"name":%q,"shape":[%s]}`, d.Input, exampleShape(d)))
	}
	return strings.Join(what, "; ") + `: give each such input's full shape, batch first, in the request's "inputs", e.g. "inputs":[` +
		strings.Join(examples, ",") + `] with every letter replaced by its size`
}

// declared writes a declared shape with its dynamic dimensions by name
// ("?" where unnamed).
func declared(shape []int, names []string) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		switch {
		case d >= 0:
			parts[i] = strconv.Itoa(d)
		case i < len(names) && names[i] != "":
			parts[i] = names[i]
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// exampleShape is the CLI flag's example shape (e.g. 1,3,H,W) as a JSON
// array's elements.
func exampleShape(e *api.DynamicShapeError) string {
	_, shape, ok := strings.Cut(e.Flag, "=")
	if !ok {
		return declared(e.Declared, e.DimNames)
	}
	return shape
}

// checkInputSettings finds the input setting a model refused: a name the
// model lacks or given twice, a shape of the wrong rank or at odds with a
// fixed dimension, or values that do not fill the shape. nil when none
// is at fault that way.
func checkInputSettings(ins []api.ModelInput, opt modelOptions) error {
	byName := map[string]api.ModelInput{}
	var names []string
	for _, in := range ins {
		byName[in.Name] = in
		names = append(names, in.Name)
	}
	unprocessable := func(field, format string, a ...any) error {
		return &requestError{http.StatusUnprocessableEntity, field, fmt.Errorf(format, a...)}
	}
	if len(opt.InputShape) > 0 && len(ins) > 0 {
		if err := checkShape(ins[0], opt.InputShape); err != "" {
			return unprocessable("input_shape", "%s (input_shape sets the first graph input, %q)", err, ins[0].Name)
		}
	}
	seen := map[string]bool{}
	for i, s := range opt.Inputs {
		field := fmt.Sprintf("inputs[%d]", i)
		in, ok := byName[s.Name]
		if !ok {
			return unprocessable(field+".name", "%q is not a graph input of this model: its inputs are %s", s.Name, strings.Join(names, ", "))
		}
		if seen[s.Name] {
			return unprocessable(field+".name", "input %q is set twice: give each input once", s.Name)
		}
		seen[s.Name] = true
		shape := s.Shape
		if len(shape) > 0 {
			if err := checkShape(in, shape); err != "" {
				return unprocessable(field+".shape", "%s", err)
			}
		} else if len(in.Shape) > 0 {
			shape = make([]int, len(in.Shape))
			for k, d := range in.Shape {
				shape[k] = d
				if d < 0 && k == in.BatchAxis {
					shape[k] = 1
				}
			}
		}
		if len(s.Value) == 0 {
			continue
		}
		n, known := int64(1), true
		for _, d := range shape {
			if d < 0 {
				known = false
			}
			n *= int64(d)
		}
		if known && len(shape) > 0 && n != int64(len(s.Value)) {
			return unprocessable(field+".value", "%d values given for input %q of shape %v, which holds %d: give one value per element", len(s.Value), s.Name, shape, n)
		}
	}
	return nil
}

// checkShape reports how a full shape given for an input disagrees with
// the input's declared shape, or "".
func checkShape(in api.ModelInput, shape []int) string {
	for i, d := range shape {
		if d <= 0 {
			return fmt.Sprintf("shape %v for input %q has dimension %d = %d: every dimension must be positive", shape, in.Name, i, d)
		}
	}
	if in.Shape == nil {
		return ""
	}
	if len(shape) != len(in.Shape) {
		return fmt.Sprintf("shape %v has %d dimensions, but input %q has %d (declared %s)", shape, len(shape), in.Name, len(in.Shape), declared(in.Shape, in.DimNames))
	}
	for i, d := range in.Shape {
		if d > 0 && shape[i] != d {
			return fmt.Sprintf("shape %v gives dimension %d = %d, but input %q fixes it to %d (declared %s)", shape, i, shape[i], in.Name, d, declared(in.Shape, in.DimNames))
		}
	}
	return ""
}
