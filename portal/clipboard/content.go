package clipboard

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"unicode/utf8"
)

// Kinds of content that cross. Nothing else does: no file URIs (moving a
// file is a grant), no HTML (it can carry remote references), no other
// image formats.
const (
	KindText  = "text"
	KindImage = "image"
)

// Default caps, the most a profile may allow.
const (
	DefaultMaxText  = 1 << 20
	DefaultMaxImage = 16 << 20
	// maxPixels bounds the decoded image: a small PNG or JPEG can claim a
	// huge canvas (a decompression bomb), and decoding allocates 4 bytes a
	// pixel or more before anything is checked.
	maxPixels = 40 << 20
)

// ErrTooLarge is content over a cap: nothing crosses.
var ErrTooLarge = errors.New("over the cap")

// TooLargeError says which cap refused what.
type TooLargeError struct {
	Kind      string
	Size, Max int64 // Size is a lower bound when the source announced no size
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s of %d bytes is over the cap of %d bytes", e.Kind, e.Size, e.Max)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Content is what Airlock's clipboard holds: checked text or a PNG that
// Airlock encoded itself.
type Content struct {
	Kind string
	Data []byte
}

// Size is the content's length in bytes.
func (c *Content) Size() int64 { return int64(len(c.Data)) }

// cleanText accepts UTF-8 text only: anything else (binary, another
// encoding that happens to be labelled UTF-8) is refused rather than
// repaired, so that what arrives is what the user saw.
func cleanText(b []byte, max int64) (*Content, error) {
	if int64(len(b)) > max {
		return nil, &TooLargeError{Kind: KindText, Size: int64(len(b)), Max: max}
	}
	if !utf8.Valid(b) {
		return nil, errors.New("the text is not valid UTF-8")
	}
	return &Content{Kind: KindText, Data: append([]byte(nil), b...)}, nil
}

// latin1ToUTF8 reads X's STRING type (ISO 8859-1).
func latin1ToUTF8(b []byte) []byte {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return []byte(sb.String())
}

// utf8ToLatin1 writes STRING for a client that asks for it: characters
// outside ISO 8859-1 become '?'.
func utf8ToLatin1(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r > 0xff {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// cleanImage decodes a PNG or JPEG and encodes the pixels again as PNG:
// no metadata (EXIF with a camera's serial or a place, ICC profiles, text
// chunks) and no parser exploit aimed at the destination's decoder crosses,
// only pixels. Go's decoders are memory safe; the canvas is bounded before
// decoding (maxPixels).
func cleanImage(b []byte, max int64) (*Content, error) {
	if int64(len(b)) > max {
		return nil, &TooLargeError{Kind: KindImage, Size: int64(len(b)), Max: max}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cannot read the image: %w", err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("images of type %s do not cross", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("the image's size %dx%d is over the limit of %d pixels", cfg.Width, cfg.Height, maxPixels)
	}
	var img image.Image
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(b))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the image: %w", err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("cannot encode the image: %w", err)
	}
	if int64(out.Len()) > max {
		return nil, &TooLargeError{Kind: KindImage, Size: int64(out.Len()), Max: max}
	}
	return &Content{Kind: KindImage, Data: out.Bytes()}, nil
}
