package scrape_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/scrape"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for dnsName (server) or a client
// certificate, as PEM cert and key.
func (ca *testCA) issue(t *testing.T, serial int64, dnsName string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: dnsName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if dnsName != "" {
		tmpl.DNSNames = []string{dnsName}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// TestScrapeTLS: an exporter whose certificate names exporter.test (not
// its address) and that requires a client certificate from the same CA.
func TestScrapeTLS(t *testing.T) {
	ca := newCA(t)
	srvCert, srvKey := ca.issue(t, 2, "exporter.test", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.issue(t, 3, "scraper", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secure 1\n"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	certFile := writeFile(t, dir, "client.pem", cliCert)
	keyFile := writeFile(t, dir, "client.key", cliKey)
	full := scrape.TLSConfig{CAFile: caFile, CertFile: certFile, KeyFile: keyFile, ServerName: "exporter.test"}
	tests := []struct {
		name string
		tls  scrape.TLSConfig
		up   bool
		err  string
	}{
		{"ca, client certificate and server name", full, true, ""},
		{"no client certificate", scrape.TLSConfig{CAFile: caFile, ServerName: "exporter.test"}, false, "certificate"},
		{"system roots", scrape.TLSConfig{CertFile: certFile, KeyFile: keyFile, ServerName: "exporter.test"}, false, "certificate signed by unknown authority"},
		{"address is not the certificate's name", scrape.TLSConfig{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}, false, "cannot validate certificate for 127.0.0.1"},
		{"insecure skip verify", scrape.TLSConfig{CertFile: certFile, KeyFile: keyFile, InsecureSkipVerify: true}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL + "/metrics"}}, TLS: tt.tls})
			syn, rest := synthetic(b.Points)
			st := r.s.Stats()[0]
			if tt.up {
				assert.True(t, st.Up, "%v", st.LastError)
				assert.Equal(t, 1.0, value(t, syn["up"]))
				require.Len(t, rest, 1)
				assert.Equal(t, "secure", rest[0].Name)
				return
			}
			assert.Equal(t, 0.0, value(t, syn["up"]))
			require.Error(t, st.LastError)
			assert.Contains(t, st.LastError.Error(), tt.err)
		})
	}

	_, err = scrape.New(scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, Sink: point.Discard(), TLS: scrape.TLSConfig{CAFile: keyFile}})
	assert.ErrorContains(t, err, "TLS.CAFile: "+keyFile+" holds no PEM certificate")
}
