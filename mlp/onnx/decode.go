package onnx

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxItems bounds how many messages, strings and integers the decoder
// keeps for one file. Each of them takes more memory decoded than on the
// wire (a two-byte empty node becomes a struct of a hundred bytes), so a
// file made of nothing else could otherwise make a small file cost
// gigabytes; an MLP needs a few hundred (a thousand layers, a few
// thousand nodes). Floats are not counted: their
// decoded size never exceeds their size in the file.
const maxItems = 1 << 18

// decoder holds the budget of one decoding.
type decoder struct{ items int }

// spend takes n items from the budget.
func (d *decoder) spend(n int) error {
	d.items += n
	if d.items > maxItems {
		return fmt.Errorf("the file holds more than %d nodes, attributes, names and integers; that is no MLP", maxItems)
	}
	return nil
}

// field is one field of a message as found on the wire: its payload for
// the bytes type, its value for the varint and fixed types.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	b   []byte
}

// eachField calls f on every field of msg, a message of type what (for
// errors). Groups, which ONNX never uses, are skipped.
func eachField(msg []byte, what string, f func(field) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return fmt.Errorf("%s: bad field tag: %w", what, protowire.ParseError(n))
		}
		msg = msg[n:]
		fv := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			fv.u, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(msg)
			fv.u = uint64(v)
		case protowire.Fixed64Type:
			fv.u, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			fv.b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
			if n >= 0 {
				msg = msg[n:]
				continue
			}
		}
		if n < 0 {
			return fmt.Errorf("%s: field %d: %w", what, num, protowire.ParseError(n))
		}
		msg = msg[n:]
		if err := f(fv); err != nil {
			return err
		}
	}
	return nil
}

func (f field) want(what string, typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("%s: field %d has wire type %d, want %d", what, f.num, f.typ, typ)
	}
	return nil
}

func (f field) str(what string) (string, error) {
	if err := f.want(what, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

func (f field) varint(what string) (int64, error) {
	if err := f.want(what, protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// appendVarints decodes a repeated integer field, packed or not.
func (d *decoder) appendVarints(dst []int64, f field, what string) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		if err := d.spend(1); err != nil {
			return nil, err
		}
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%s: field %d: %w", what, f.num, protowire.ParseError(n))
			}
			if err := d.spend(1); err != nil {
				return nil, err
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s: field %d has wire type %d, want a varint or packed varints", what, f.num, f.typ)
}

// appendFloats decodes a repeated float field, packed or not.
func appendFloats(dst []float32, f field, what string) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("%s: field %d: packed floats of %d bytes, not a multiple of 4", what, f.num, len(f.b))
		}
		dst = growFloats(dst, len(f.b)/4)
		for i := 0; i < len(f.b); i += 4 {
			v := uint32(f.b[i]) | uint32(f.b[i+1])<<8 | uint32(f.b[i+2])<<16 | uint32(f.b[i+3])<<24
			dst = append(dst, math.Float32frombits(v))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s: field %d has wire type %d, want a float or packed floats", what, f.num, f.typ)
}

// growFloats makes room for n more floats at once: n is bounded by the
// bytes present, so this allocates no more than the file holds.
func growFloats(dst []float32, n int) []float32 {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	out := make([]float32, len(dst), len(dst)+n)
	copy(out, dst)
	return out
}

func decodeModel(b []byte) (*modelProto, error) {
	d := &decoder{}
	m := &modelProto{}
	const what = "ModelProto"
	seenGraph := false
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fModelIRVersion:
			m.irVersion, err = f.varint(what + ".ir_version")
		case fModelProducerName:
			m.producerName, err = f.str(what + ".producer_name")
		case fModelProducerVersion:
			m.producerVersion, err = f.str(what + ".producer_version")
		case fModelDomain:
			m.domain, err = f.str(what + ".domain")
		case fModelModelVersion:
			m.modelVersion, err = f.varint(what + ".model_version")
		case fModelDocString:
			m.docString, err = f.str(what + ".doc_string")
		case fModelGraph:
			if err = f.want(what+".graph", protowire.BytesType); err != nil {
				return err
			}
			if seenGraph {
				// Protobuf would merge the two; a file written that
				// way is not one any exporter makes.
				return errors.New("ModelProto has two graphs")
			}
			seenGraph = true
			m.graph, err = d.graph(f.b)
		case fModelOpsetImport:
			if err = f.want(what+".opset_import", protowire.BytesType); err != nil {
				return err
			}
			if err = d.spend(1); err != nil {
				return err
			}
			var o opsetID
			o, err = decodeOpset(f.b)
			m.opsetImport = append(m.opsetImport, o)
		case fModelMetadataProps:
			if err = f.want(what+".metadata_props", protowire.BytesType); err != nil {
				return err
			}
			if err = d.spend(1); err != nil {
				return err
			}
			var e stringEntry
			e, err = decodeStringEntry(f.b)
			m.metadataProps = append(m.metadataProps, e)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeOpset(b []byte) (opsetID, error) {
	var o opsetID
	const what = "OperatorSetIdProto"
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fOpsetDomain:
			o.domain, err = f.str(what + ".domain")
		case fOpsetVersion:
			o.version, err = f.varint(what + ".version")
		}
		return err
	})
	return o, err
}

func decodeStringEntry(b []byte) (stringEntry, error) {
	var e stringEntry
	const what = "StringStringEntryProto"
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fStringEntryKey:
			e.key, err = f.str(what + ".key")
		case fStringEntryValue:
			e.value, err = f.str(what + ".value")
		}
		return err
	})
	return e, err
}

func (d *decoder) graph(b []byte) (*graphProto, error) {
	g := &graphProto{}
	const what = "GraphProto"
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fGraphNode:
			if err = f.want(what+".node", protowire.BytesType); err != nil {
				return err
			}
			var x *nodeProto
			x, err = d.node(f.b, len(g.nodes))
			g.nodes = append(g.nodes, x)
		case fGraphName:
			g.name, err = f.str(what + ".name")
		case fGraphInitializer:
			if err = f.want(what+".initializer", protowire.BytesType); err != nil {
				return err
			}
			var t *tensorProto
			t, err = d.tensor(f.b, fmt.Sprintf("initializer %d", len(g.initializers)))
			g.initializers = append(g.initializers, t)
		case fGraphDocString:
			g.docString, err = f.str(what + ".doc_string")
		case fGraphInput, fGraphOutput:
			if err = f.want(what+".input/output", protowire.BytesType); err != nil {
				return err
			}
			var v *valueInfo
			v, err = d.valueInfo(f.b)
			if f.num == fGraphInput {
				g.inputs = append(g.inputs, v)
			} else {
				g.outputs = append(g.outputs, v)
			}
		case fGraphSparseInitializer:
			g.hasSparseInitializers = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) node(b []byte, index int) (*nodeProto, error) {
	if err := d.spend(8); err != nil {
		return nil, err
	}
	x := &nodeProto{}
	what := fmt.Sprintf("node %d", index)
	err := eachField(b, what, func(f field) error {
		var err error
		var s string
		switch f.num {
		case fNodeInput, fNodeOutput:
			if s, err = f.str(what + " input/output"); err != nil {
				return err
			}
			if err = d.spend(1); err != nil {
				return err
			}
			if f.num == fNodeInput {
				x.inputs = append(x.inputs, s)
			} else {
				x.outputs = append(x.outputs, s)
			}
		case fNodeName:
			x.name, err = f.str(what + " name")
		case fNodeOpType:
			x.opType, err = f.str(what + " op_type")
		case fNodeDomain:
			x.domain, err = f.str(what + " domain")
		case fNodeDocString:
			x.docString, err = f.str(what + " doc_string")
		case fNodeAttribute:
			if err = f.want(what+" attribute", protowire.BytesType); err != nil {
				return err
			}
			var a *attrProto
			a, err = d.attribute(f.b, what)
			x.attrs = append(x.attrs, a)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

func (d *decoder) attribute(b []byte, node string) (*attrProto, error) {
	if err := d.spend(8); err != nil {
		return nil, err
	}
	a := &attrProto{}
	what := node + " attribute"
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fAttrName:
			a.name, err = f.str(what + " name")
		case fAttrType:
			var v int64
			v, err = f.varint(what + " type")
			a.typ = int32(v)
		case fAttrF:
			if err = f.want(what+" f", protowire.Fixed32Type); err != nil {
				return err
			}
			a.f = math.Float32frombits(uint32(f.u))
		case fAttrI:
			a.i, err = f.varint(what + " i")
		case fAttrS:
			err = f.want(what+" s", protowire.BytesType)
			a.s = f.b
		case fAttrT:
			if err = f.want(what+" t", protowire.BytesType); err != nil {
				return err
			}
			a.t, err = d.tensor(f.b, what+" tensor")
		case fAttrFloats:
			a.floats, err = appendFloats(a.floats, f, what+" floats")
		case fAttrInts:
			a.ints, err = d.appendVarints(a.ints, f, what+" ints")
		case fAttrRefAttrName:
			a.refAttrName, err = f.str(what + " ref_attr_name")
		case fAttrG, fAttrStrings, fAttrTensors, fAttrGraphs, fAttrTypeProto, fAttrTypeProtos,
			fAttrSparseTensor, fAttrSparseTensors:
			// Not decoded (so a subgraph cannot make the decoder
			// recurse), only noted: no operator of an MLP takes one.
			a.hasOther = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (d *decoder) tensor(b []byte, what string) (*tensorProto, error) {
	if err := d.spend(8); err != nil {
		return nil, err
	}
	t := &tensorProto{}
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fTensorDims:
			t.dims, err = d.appendVarints(t.dims, f, what+" dims")
		case fTensorDataType:
			var v int64
			v, err = f.varint(what + " data_type")
			t.dataType = int32(v)
		case fTensorSegment:
			t.hasSegment = true
		case fTensorFloatData:
			t.floatData, err = appendFloats(t.floatData, f, what+" float_data")
		case fTensorInt32Data:
			var vs []int64
			vs, err = d.appendVarints(nil, f, what+" int32_data")
			for _, v := range vs {
				t.int32Data = append(t.int32Data, int32(v))
			}
		case fTensorInt64Data:
			t.int64Data, err = d.appendVarints(t.int64Data, f, what+" int64_data")
		case fTensorName:
			t.name, err = f.str(what + " name")
		case fTensorRawData:
			err = f.want(what+" raw_data", protowire.BytesType)
			t.rawData, t.hasRawData = f.b, true
		case fTensorExternalData:
			t.hasExternalData = true
		case fTensorDataLocation:
			var v int64
			v, err = f.varint(what + " data_location")
			t.dataLocation = int32(v)
		default:
			// double_data, uint64_data and string_data are the other
			// types' homes: a tensor using one has a data_type that
			// the importer refuses by name, so they are not read.
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (d *decoder) valueInfo(b []byte) (*valueInfo, error) {
	if err := d.spend(8); err != nil {
		return nil, err
	}
	v := &valueInfo{notTensor: true}
	const what = "ValueInfoProto"
	err := eachField(b, what, func(f field) error {
		var err error
		switch f.num {
		case fValueInfoName:
			v.name, err = f.str(what + ".name")
		case fValueInfoType:
			if err = f.want(what+".type", protowire.BytesType); err != nil {
				return err
			}
			err = d.typeProto(f.b, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// typeProto reads a TypeProto into v: a tensor type sets elemType and
// shape; any other kind leaves v.notTensor set.
func (d *decoder) typeProto(b []byte, v *valueInfo) error {
	const what = "TypeProto"
	return eachField(b, what, func(f field) error {
		switch f.num {
		case fTypeTensorType:
			if err := f.want(what+".tensor_type", protowire.BytesType); err != nil {
				return err
			}
			v.notTensor = false
			return eachField(f.b, what+".Tensor", func(f field) error {
				switch f.num {
				case fTensorTypeElem:
					e, err := f.varint(what + ".Tensor.elem_type")
					v.elemType = int32(e)
					return err
				case fTensorTypeShape:
					if err := f.want(what+".Tensor.shape", protowire.BytesType); err != nil {
						return err
					}
					v.hasShape = true
					return d.shape(f.b, v)
				}
				return nil
			})
		case fTypeSequenceType, fTypeMapType, fTypeSparseTensor, fTypeOptionalType:
			v.notTensor = true
		}
		return nil
	})
}

func (d *decoder) shape(b []byte, v *valueInfo) error {
	const what = "TensorShapeProto"
	return eachField(b, what, func(f field) error {
		if f.num != fShapeDim {
			return nil
		}
		if err := f.want(what+".dim", protowire.BytesType); err != nil {
			return err
		}
		if err := d.spend(2); err != nil {
			return err
		}
		var dim dimension
		err := eachField(f.b, what+".Dimension", func(f field) error {
			var err error
			switch f.num {
			case fDimValue:
				dim.value, err = f.varint(what + ".Dimension.dim_value")
				dim.hasValue = true
			case fDimParam:
				dim.param, err = f.str(what + ".Dimension.dim_param")
			}
			return err
		})
		v.shape = append(v.shape, dim)
		return err
	})
}
