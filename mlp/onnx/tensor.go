package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dataTypeNames names TensorProto.DataType values in errors.
var dataTypeNames = map[int32]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32",
	7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64",
	14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
}

func dataTypeName(t int32) string {
	if s, ok := dataTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", t)
}

// maxElements bounds a tensor's element count, as mlp bounds a layer's
// sizes (int32 products).
const maxElements = math.MaxInt32

// elements returns the number of elements dims declare, checking each
// dimension and the product for overflow. It allocates nothing, so a
// tensor can declare any dims: its data is checked against them before
// anything is made from it.
func (t *tensorProto) elements() (int, error) {
	n := 1
	for i, d := range t.dims {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is %d", i, d)
		}
		if d == 0 {
			n = 0
			continue
		}
		if d > maxElements || n > maxElements/int(d) {
			return 0, fmt.Errorf("dims %v hold more than %d elements", t.dims, maxElements)
		}
		n *= int(d)
	}
	return n, nil
}

// stored checks that the tensor's data lives in this file and is of type
// want, and returns its element count.
func (t *tensorProto) stored(want int32) (int, error) {
	if t.dataLocation == locationExternal || t.hasExternalData {
		return 0, fmt.Errorf("its data is stored in an external file (data_location EXTERNAL); only data inside the model file is supported")
	}
	if t.hasSegment {
		return 0, fmt.Errorf("it is one segment of a larger tensor; segmented tensors are not supported")
	}
	if t.dataType != want {
		return 0, fmt.Errorf("it is a %s tensor, want %s", dataTypeName(t.dataType), dataTypeName(want))
	}
	return t.elements()
}

// float32s returns the tensor's values, checking that the data present
// matches dims before allocating anything.
func (t *tensorProto) float32s() ([]float32, error) {
	n, err := t.stored(dtFloat)
	if err != nil {
		return nil, err
	}
	switch {
	case t.hasRawData && len(t.floatData) > 0:
		return nil, fmt.Errorf("it has both raw_data and float_data")
	case t.hasRawData:
		if len(t.rawData) != 4*n {
			return nil, fmt.Errorf("dims %v need %d bytes of raw_data, found %d", t.dims, 4*n, len(t.rawData))
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.rawData[4*i:]))
		}
		return out, nil
	default:
		if len(t.floatData) != n {
			return nil, fmt.Errorf("dims %v need %d values, float_data holds %d", t.dims, n, len(t.floatData))
		}
		return append([]float32(nil), t.floatData...), nil
	}
}

// int64s returns an INT64 tensor's values (a Reshape's target shape),
// refusing one of more than limit elements.
func (t *tensorProto) int64s(limit int) ([]int64, error) {
	n, err := t.stored(dtInt64)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("it has %d elements, at most %d expected", n, limit)
	}
	switch {
	case t.hasRawData && len(t.int64Data) > 0:
		return nil, fmt.Errorf("it has both raw_data and int64_data")
	case t.hasRawData:
		if len(t.rawData) != 8*n {
			return nil, fmt.Errorf("dims %v need %d bytes of raw_data, found %d", t.dims, 8*n, len(t.rawData))
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.rawData[8*i:]))
		}
		return out, nil
	default:
		if len(t.int64Data) != n {
			return nil, fmt.Errorf("dims %v need %d values, int64_data holds %d", t.dims, n, len(t.int64Data))
		}
		return append([]int64(nil), t.int64Data...), nil
	}
}

// boolScalar returns a one-element BOOL tensor's value (a Dropout's
// training_mode).
func (t *tensorProto) boolScalar() (bool, error) {
	n, err := t.stored(dtBool)
	if err != nil {
		return false, err
	}
	if n != 1 {
		return false, fmt.Errorf("it has %d elements, want 1", n)
	}
	switch {
	case t.hasRawData:
		if len(t.rawData) != 1 {
			return false, fmt.Errorf("a BOOL scalar needs 1 byte of raw_data, found %d", len(t.rawData))
		}
		return t.rawData[0] != 0, nil
	case len(t.int32Data) == 1:
		return t.int32Data[0] != 0, nil
	}
	return false, fmt.Errorf("it has no value")
}
