package mnist

import "fmt"

// Dataset is one split of an image data set: N images of Rows×Cols pixels,
// stored row-major one after another, and their class labels.
type Dataset struct {
	// Images holds N*Rows*Cols pixel intensities, 0 (background) to 255.
	Images []uint8
	// Labels holds N class indices, each in 0..9.
	Labels []int32
	// N is the number of examples; Rows and Cols the image size (28×28).
	N, Rows, Cols int
}

// FashionClasses names Fashion-MNIST's ten classes by label.
var FashionClasses = [10]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// Scaled returns the images as float32 in [0, 1], each pixel x becoming
// exactly float32(x)/255. For 0..255 this equals the tutorial's float64
// x/255.0 rounded to float32, so results match Keras bit for bit. It makes
// one allocation.
func (d *Dataset) Scaled() []float32 {
	// A table keeps the division out of the loop over 47 million pixels.
	var lut [256]float32
	for i := range lut {
		lut[i] = float32(i) / 255
	}
	out := make([]float32, len(d.Images))
	for i, x := range d.Images {
		out[i] = lut[x]
	}
	return out
}

// newDataset pairs images and labels after checking that they agree and
// that every label is a class index.
func newDataset(file string, imgDims []int, images []uint8, labDims []int, labels []uint8) (*Dataset, error) {
	if len(imgDims) != 3 {
		return nil, corrupt(file, fmt.Sprintf("images have shape %v, want (n, rows, cols)", imgDims))
	}
	if len(labDims) != 1 || labDims[0] != imgDims[0] {
		return nil, corrupt(file, fmt.Sprintf("labels have shape %v but there are %d images", labDims, imgDims[0]))
	}
	ls := make([]int32, len(labels))
	for i, l := range labels {
		if l > 9 {
			return nil, corrupt(file, fmt.Sprintf("label %d at index %d is not in 0..9", l, i))
		}
		ls[i] = int32(l)
	}
	return &Dataset{Images: images, Labels: ls, N: imgDims[0], Rows: imgDims[1], Cols: imgDims[2]}, nil
}

// GatherRows copies rows of width elements from src into dst: row k of dst
// becomes row idx[k] of src. It allocates nothing, checks every index before
// writing, and returns an error (leaving dst untouched) if width is not
// positive, dst is shorter than len(idx)*width, or an index is out of range.
// It is how a mini-batch or a TrainTestSplit part is drawn from a Dataset's
// Images (width Rows*Cols) or Labels (width 1).
func GatherRows[T any](dst, src []T, width int, idx []int) error {
	if width <= 0 {
		return fmt.Errorf("mnist: GatherRows: width %d must be positive", width)
	}
	rows := len(src) / width
	if len(idx) > len(dst)/width {
		return fmt.Errorf("mnist: GatherRows: len(dst) = %d, need %d rows of %d", len(dst), len(idx), width)
	}
	for k, i := range idx {
		if i < 0 || i >= rows {
			return fmt.Errorf("mnist: GatherRows: idx[%d] = %d out of range [0, %d)", k, i, rows)
		}
	}
	for k, i := range idx {
		copy(dst[k*width:(k+1)*width], src[i*width:(i+1)*width])
	}
	return nil
}
